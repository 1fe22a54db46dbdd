import Foundation
import Testing
@testable import FlowSpec

/// The layer options a ResNet backbone needs: `conv` without bias, `maxpool` with padding, and
/// a residual block with a projection shortcut — shapes, parameter counts, `check`'s output,
/// the flow written back, and the located errors.
struct BackboneLayerTests {
    /// A ResNet-18 stem and a downsampling block on a 32 × 32 image.
    static let stem = """
        name: t
        data: {train: train.csv}
        inputs:
          image: {type: image, shape: [32, 32, 3]}
        trunk:
          body:
            from: image
            layers:
              - conv: {filters: 8, kernel: 7, stride: 2, padding: 3, bias: false}
              - batchnorm
              - relu
              - maxpool: {size: 3, stride: 2, padding: 1}
              - residual:
                  layers: [conv: {filters: 16, kernel: 3, stride: 2, padding: 1, bias: false}, batchnorm, relu,
                           conv: {filters: 16, kernel: 3, padding: 1, bias: false}, batchnorm]
                  shortcut: [conv: {filters: 16, kernel: 1, stride: 2, bias: false}, batchnorm]
              - relu
              - global_avgpool
        flow:
          a: {type: binary}
        """

    @Test func shapesAndParameterCountsMatchHandComputation() throws {
        let flow = try load(Self.stem)
        let body = try #require(flow.branches.first)
        // (32 + 6 − 7) / 2 + 1 = 16; maxpool (16 + 2 − 3) / 2 + 1 = 8; the block halves it again.
        #expect(body.layers.map(\.output.description)
                    == ["[16, 16, 8]", "[16, 16, 8]", "[16, 16, 8]", "[8, 8, 8]", "[4, 4, 16]", "[4, 4, 16]", "[16]"])
        // No bias: 7·7·3·8 alone. The block: 3·3·8·16 + 32 + 3·3·16·16 + 32, its shortcut 8·16 + 32.
        #expect(body.layers.map { $0.parameters.known } == [1176, 16, 0, 0, 1152 + 32 + 2304 + 32 + 128 + 32, 0, 0])
        let block = body.layers[4]
        #expect(block.inner.map(\.output.description) == ["[4, 4, 16]", "[4, 4, 16]", "[4, 4, 16]", "[4, 4, 16]", "[4, 4, 16]"])
        #expect(block.shortcut.map(\.output.description) == ["[4, 4, 16]", "[4, 4, 16]"])
        #expect(block.shortcut.map { $0.parameters.known } == [128, 32])
    }

    @Test func checkShowsEachOption() throws {
        let summary = FlowSummary(try load(Self.stem))
        let lines = summary.text.split(separator: "\n").map { String($0) }
        func line(_ start: String) -> String? { lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(start) } }
        #expect(line("conv 8, kernel 7, stride 2, padding 3, no bias")?.contains("1,176") == true, "\(lines)")
        #expect(line("maxpool 3, stride 2, padding 1")?.contains("[8, 8, 8]") == true, "\(lines)")
        #expect(line("residual with shortcut") != nil, "\(lines)")
        #expect(line("shortcut conv 16, kernel 1, stride 2, no bias")?.contains("128") == true, "\(lines)")
        #expect(line("shortcut batchnorm") != nil, "\(lines)")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.json.utf8)) as? [String: Any])
        let branch = try #require((json["trunk"] as? [[String: Any]])?.first)
        let block = try #require((branch["layers"] as? [[String: Any]])?[4])
        #expect(block["summary"] as? String == "residual with shortcut")
        #expect((block["layers"] as? [Any])?.count == 5)
        let shortcut = try #require(block["shortcut"] as? [[String: Any]])
        #expect(shortcut.map { $0["summary"] as? String } == ["conv 16, kernel 1, stride 2, no bias", "batchnorm"])
        #expect(shortcut.first?["parameters"] as? Int == 128)
    }

    @Test func writtenBackReadsTheSame() throws {
        let flow = try load(Self.stem)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        #expect(text.contains("conv: {filters: 8, kernel: 7, stride: 2, padding: 3, bias: false}"), "\(text)")
        #expect(text.contains("maxpool: {size: 3, stride: 2, padding: 1}"), "\(text)")
        #expect(text.contains(", shortcut: [conv: {filters: 16, kernel: 1, stride: 2, padding: 0, bias: false}, batchnorm: "),
                "\(text)")
        let again = try load(text)
        #expect(FlowSummary(again).text == FlowSummary(flow).text)
    }

    /// Flows written before these options existed are written as they were, so that `--resume`
    /// still finds the same `flow.yaml`.
    @Test func defaultsAreNotWritten() throws {
        let flow = try load(minimalHeader.replacingOccurrences(of: "x: {type: numeric, columns: [f1, f2, f3]}",
                                                               with: "x: {type: image, shape: [8, 8, 1]}") + """
            trunk:
              b: {from: x, layers: [conv: {filters: 2, kernel: 3}, maxpool: 2, residual: [relu], flatten]}
            flow:
              a: {type: binary}
            """)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        #expect(text.contains("layers: [conv: {filters: 2, kernel: 3, stride: 1, padding: 0}, maxpool: {size: 2, stride: 2}, "
                              + "residual: {layers: [relu]}, flatten]"), "\(text)")
    }

    /// One flow, every kind of mistake in the new keys, each at its own node.
    @Test func badValuesAreLocated() {
        let problems = diagnostics("""
            name: t
            data: {train: train.csv}
            inputs:
              image: {type: image, shape: [16, 16, 3]}
            trunk:
              body:
                from: image
                layers:
                  - conv: {filters: 4, kernel: 3, bias: maybe}
                  - maxpool: {size: 3, padding: 2}
                  - maxpool: {size: 3, padding: -1}
                  - maxpool: {size: 2, paddin: 1}
                  - avgpool: {size: 3, padding: 1}
                  - residual: {layers: [relu], shortcut: []}
                  - residual: {layers: [relu], shortcuts: [relu]}
                  - residual: {shortcut: [relu]}
                  - residual: {layers: [relu], shortcut: [conv: {filters: 2, kernel: 0}]}
            flow:
              a: {type: binary}
            """)
        #expect(problems == [
            "9:45: branch 'body': conv: bias: expected true or false, found 'maybe'",
            "10:37: branch 'body': maxpool: padding 2 is more than half the window (size 3) (use padding 1 or less)",
            "11:37: branch 'body': maxpool: padding: -1 is out of range; expected 0 to 1024",
            "12:28: branch 'body': maxpool: unknown key 'paddin' (did you mean 'padding'?)",
            "13:28: branch 'body': avgpool: unknown key 'padding'",
            "14:46: branch 'body': residual: shortcut: needs at least one layer (leave shortcut out to add the block's input itself)",
            "15:36: branch 'body': residual: unknown key 'shortcuts' (did you mean 'shortcut'?)",
            "16:19: branch 'body': residual: missing required key 'layers'",
            "17:74: branch 'body': residual: shortcut: conv: kernel: 0 is out of range; expected 1 to 1024",
        ], "\(problems)")
    }

    @Test func shortcutMustGiveTheBlocksShape() {
        let problems = diagnostics("""
            name: t
            data: {train: train.csv}
            inputs:
              image: {type: image, shape: [8, 8, 3]}
            trunk:
              body:
                from: image
                layers:
                  - residual:
                      layers: [conv: {filters: 4, kernel: 3, stride: 2, padding: 1}]
                      shortcut: [conv: {filters: 4, kernel: 1}]
                  - flatten
            flow:
              a: {type: binary}
            """)
        #expect(problems == [
            "9:9: branch 'body': a residual block and its shortcut must give the same shape: the layers give [4, 4, 4], "
                + "the shortcut [8, 8, 4]",
        ], "\(problems)")
    }

    /// A mistake inside the block and one inside its shortcut are both reported.
    @Test func mistakesInBothPathsAreReported() {
        let problems = diagnostics("""
            name: t
            data: {train: train.csv}
            inputs:
              image: {type: image, shape: [8, 8, 3]}
            trunk:
              body:
                from: image
                layers:
                  - residual: {layers: [conv: {filters: 4, kernel: 9}], shortcut: [maxpool: 9]}
                  - flatten
            flow:
              a: {type: binary}
            """)
        #expect(problems == [
            "9:29: branch 'body': kernel 9 is larger than its input 8×8 (use a smaller kernel, padding, or fewer downsampling layers before it)",
            "9:72: branch 'body': residual shortcut: pool size 9 is larger than its input 8×8",
        ], "\(problems)")
    }
}
