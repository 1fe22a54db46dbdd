import FileFormats
import Testing
@testable import FlowSpec

/// Loads flow text and returns its diagnostics as `LINE:COL: message (hint)` strings.
func diagnostics(_ text: String) -> [String] {
    diagnostics(Array(text.utf8))
}

func diagnostics(_ bytes: [UInt8]) -> [String] {
    do {
        _ = try FlowLoader.load(bytes: bytes, file: "f.yaml")
        return []
    } catch {
        return ([error] + error.further).map(lineAndColumn)
    }
}

/// A problem as `LINE:COL: message (hint)`, without its file.
func lineAndColumn(_ problem: Problem) -> String {
    (problem.location.map { "\($0.line ?? 0):\($0.column ?? 0): " } ?? "") + problem.message + (problem.hint.map { " (\($0))" } ?? "")
}

func load(_ text: String) throws -> ResolvedFlow {
    try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
}

let minimalHeader = """
    name: t
    data: {train: train.csv}
    inputs:
      x: {type: numeric, columns: [f1, f2, f3]}

    """

struct FileLevelErrorTests {
    @Test func emptyFileIsOneError() {
        #expect(diagnostics([]) == ["1:1: the flow file is empty; a flow needs at least name, data, inputs and flow"])
    }

    /// The flow's own name only names a folder, so '-' and '.' are allowed in it; a name that
    /// would be a hidden folder, an option or a path is not.
    @Test func flowNamesAllowDashesAndDots() throws {
        let body = "data: {train: train.csv}\ninputs:\n  x: {type: numeric, columns: [f1]}\nflow:\n  t: {type: binary}\n"
        #expect(try load("name: heldout-security.v2\n" + body).flow.name == "heldout-security.v2")
        #expect(try load("name: 2026_orders\n" + body).flow.name == "2026_orders")
        let rule = "use ASCII letters, digits, '_', '-' and '.', starting with a letter, a digit or '_' "
            + "(it names the folder of the flow's runs)"
        for bad in [".hidden", "-v", "../runs", "a/b", "naïve"] {
            #expect(diagnostics("name: \"\(bad)\"\n" + body) == ["1:7: name: '\(bad)' is not a valid flow name; \(rule)"])
        }
    }

    /// An image input's `normalize:` (ImageNet's statistics by name, or one mean and std per
    /// channel), written back into a run's flow.yaml, and its located errors.
    @Test func imageNormalizationAndItsErrors() throws {
        func flow(_ normalize: String, channels: Int = 3) -> String {
            "name: n\ndata: {train: train.csv}\ninputs:\n  im: {type: image, shape: [8, 8, \(channels)], normalize: \(normalize)}\n"
                + "trunk:\n  t: {from: im, layers: [flatten]}\nflow:\n  open: {type: binary}\n"
        }
        #expect(try load(flow("imagenet")).flow.inputs[0].imageNormalization == .imagenet)
        let gray = try load(flow("{mean: [0.5], std: [0.25]}", channels: 1))
        #expect(gray.flow.inputs[0].imageNormalization == ImageNormalization(mean: [0.5], std: [0.25]))
        #expect(FlowWriter.yaml(gray.flow, dataPaths: { $0 }).contains("normalize: {mean: [0.5], std: [0.25]}"))
        #expect(diagnostics(flow("imagenet", channels: 1))
                == ["4:50: input 'im': normalize: imagenet's statistics are for 3 channels (RGB), and the image has 1"])
        #expect(diagnostics(flow("{mean: [0.5, 0.5], std: [0.2, 0.2, 0.2]}"))
                == ["4:57: input 'im': normalize.mean: 2 numbers for an image of 3 channels"])
        #expect(diagnostics(flow("{mean: [0, 0, 0], std: [1, 0, 1]}"))[0].hasPrefix("4:77: input 'im': normalize.std: 0 is out of range"))
        #expect(diagnostics(flow("imagnet"))
                == ["4:50: input 'im': normalize: expected 'imagenet' or {mean: [...], std: [...]}, found 'imagnet'"])
    }

    /// A list or mapping may carry its own standard tag or `!`; other tags are refused
    /// (BadFlows/tag-*.yaml).
    @Test func standardTagsOnListsAndMappingsAreAccepted() throws {
        let flow = try load("""
            name: t
            data: !!map {train: train.csv}
            inputs:
              x: ! {type: numeric, columns: !!seq [f1, f2]}
            flow:
              a: {type: binary}
            """)
        #expect(flow.flow.data.train == "train.csv")
        guard case .numeric(.names(let columns), _, _)? = flow.inputs.first?.input.kind else {
            Issue.record("x is not a numeric input with listed columns")
            return
        }
        #expect(columns == ["f1", "f2"])
    }

    @Test func binaryFileIsOneError() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        #expect(diagnostics(png) == ["1:1: this is not a text file (byte 0 is not UTF-8 text); a flow is a YAML text file"])
    }

    @Test func nulByteLaterInTheFileIsLocated() {
        let bytes = Array("name: t\ndata: x\u{0}".utf8)
        #expect(diagnostics(bytes) == ["2:8: this is not a text file (byte 15 is not UTF-8 text); a flow is a YAML text file"])
    }

    @Test func missingFileNamesThePath() {
        #expect(throws: Problem.self) { try FlowLoader.load(path: "/nonexistent/flow.yaml") }
        do {
            _ = try FlowLoader.load(path: "/nonexistent/flow.yaml")
        } catch {
            #expect(error.description == "cannot open flow file '/nonexistent/flow.yaml': no such file")
        }
    }

    @Test func quadraticAliasBlowUpIsRefusedQuickly() {
        // Each level doubles; 40 levels would be 2^40 nodes if anything walked them.
        var text = "a0: &a0 [x, x]\n"
        for level in 1...40 { text += "a\(level): &a\(level) [*a\(level - 1), *a\(level - 1)]\n" }
        let result = diagnostics(text)
        #expect(result.count == 1)
        #expect(result.first?.contains("(an alias bomb?)") == true)
    }
}
