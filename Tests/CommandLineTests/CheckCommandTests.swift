import Foundation
import Testing

/// Runs the built `flowtrain` binary the way a user does and checks exit codes and output.
struct CheckCommandTests {
    @Test(arguments: ["flows/security.yaml", "flows/security-augmented.yaml", "flows/security-frozen.yaml", "flows/orders.yaml",
                      "flows/security-resnet18.yaml"])
    func shippedFlowsAreValid(_ flow: String) throws {
        let result = try run(["check", try shippedFlow(flow)])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("parameters: "))
    }

    @Test func textShowsComposedPreconditionsShapesAndParameters() throws {
        let result = try run(["check", try shippedFlow("flows/security.yaml")])
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        func line(containing text: String) -> String? { lines.first { $0.contains(text) } }
        #expect(line(containing: "when   not door_open") != nil)
        #expect(line(containing: "path   person_regression.body_regression.shirt_type") != nil)
        // conv 16, kernel 3 over 3 channels: 3·3·3·16 + 16 weights.
        let conv = try #require(line(containing: "conv 16, kernel 3, padding same"))
        #expect(conv.hasSuffix("[64, 64, 16]  448"))
        #expect(lines.last?.hasPrefix("parameters: 1,105,536 in inputs and trunk") == true)
    }

    /// The shipped ResNet-18 backbone has torchvision's `resnet18()` parameters without `fc`:
    /// 11,689,512 − 513,000 = 11,176,512, plus the dense layers above it (131,328 + 32,896).
    @Test func theResNet18BackboneHasTorchvisionsParameters() throws {
        let result = try run(["check", try shippedFlow("flows/security-resnet18.yaml")])
        #expect(result.stdout.split(separator: "\n").last?.hasPrefix("parameters: 11,340,736 in inputs and trunk") == true)
    }

    @Test func textShowsAnImageInputsAugmentation() throws {
        let result = try run(["check", try shippedFlow("flows/security-augmented.yaml")])
        let lines = result.stdout.split(separator: "\n").map { String($0) }
        let input = try #require(lines.firstIndex { $0.hasPrefix("  image: image, column 'image'") })
        #expect(lines[input + 1] == "    augment: flip horizontal, brightness ±0.1, contrast ±0.1; "
                + "boxes: face_x1 face_y1 face_w face_h, body_x1 body_y1 body_w body_h")
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/security-augmented.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "      flip_horizontal: true\n", with: "      flip_horizontal: true\n      crop: 0.85\n")
        let cropped = try run(["check", try flowWithData(text)]).stdout
        #expect(cropped.contains("    augment: flip horizontal, crop 0.85–1, brightness ±0.1, contrast ±0.1; "), "\(cropped)")
        #expect(try run(["check", try shippedFlow("flows/security.yaml")]).stdout.contains("augment") == false)
    }

    @Test func textShowsTheTrainingSettingsWithTheBalancer() throws {
        let frozen = try run(["check", try shippedFlow("flows/security-frozen.yaml")]).stdout.split(separator: "\n").map { String($0) }
        #expect(frozen.contains("train: 20 epochs, batch 64, adam lr 0.001, loss weighting gradnorm (alpha 1.5, lr 0.025, "
                                + "on branch 'common'), sampling shuffle, init torch"), "\(frozen.suffix(4))")
        let orders = try run(["check", try shippedFlow("flows/orders.yaml")]).stdout
        #expect(orders.contains("train: 8 epochs, batch 512, adamw lr 0.002, loss weighting dwa (temperature 2), sampling shuffle, "
                                + "init torch"))
    }

    /// A numeric input's encoding is shown under it, with its shape and learned values.
    @Test func textShowsNumericEncodings() throws {
        let lines = try run(["check", try shippedFlow("flows/orders.yaml")]).stdout.split(separator: "\n").map { String($0) }
        let basket = try #require(lines.firstIndex { $0.hasPrefix("  basket: numeric") })
        // Five columns, each a map from 255 slots to 16 values with 16 biases: 5 · (255 · 16 + 16).
        #expect(lines[basket].contains("[80 + indicators(basket)]") && lines[basket].hasSuffix("20,480"), "\(lines[basket])")
        #expect(lines[basket + 1] == "    encoding: piecewise_linear, 255 bins, dense 16 per column")
    }

    @Test func jsonCarriesTheSameFacts() throws {
        let result = try run(["check", try shippedFlow("flows/security.yaml"), "--format", "json"])
        #expect(result.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tasks = try #require(document["tasks"] as? [[String: Any]])
        #expect(tasks.count == 14)
        let locked = try #require(tasks.first { $0["path"] as? String == "door_locked" })
        #expect(locked["when"] as? String == "not door_open")
        #expect(locked["depends_on"] as? [String] == ["door_open"])
        #expect(locked["input"] as? String == "features")
        let parameters = try #require(document["parameters"] as? [String: Any])
        #expect(parameters["trunk"] as? Int == 1_105_536)
    }

    @Test func badFlowExitsTwoWithLocatedErrorsOnStandardError() throws {
        let path = try flowWithData("""
            name: t
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [a]}
            flow:
              door_open: {type: binary}
              door_locked: {type: binary, when: not door_opn}
            """)
        let result = try run(["check", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "\(path):7:41: task 'door_locked': precondition refers to unknown task 'door_opn' "
                + "(did you mean 'door_open'?)\n")
    }

    /// `check` is run first: a data file that is not there is an error at its path in `data:`.
    @Test func missingDataFilesExitTwoLocatedInTheFlow() throws {
        let path = try flowWithData("""
            name: t
            data: {train: train.csv, valid: elsewhere/valid.csv, test: /no/such/test.csv}
            inputs:
              x: {type: numeric, columns: [a]}
            flow:
              open: {type: binary}
            """)
        let flows = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.removeItem(at: flows.appendingPathComponent("train.csv"))
        try FileManager.default.removeItem(at: flows.appendingPathComponent("elsewhere/valid.csv"))
        try FileManager.default.createDirectory(at: flows.appendingPathComponent("elsewhere/valid.csv"),
                                                withIntermediateDirectories: false)
        let result = try run(["check", path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            \(path):2:15: data.train: '\(flows.path)/train.csv' does not exist (paths in data: are relative to the flow file)
            \(path):2:33: data.valid: '\(flows.path)/elsewhere/valid.csv' is a directory, not a CSV file (paths in data: are relative to the flow file)
            \(path):2:60: data.test: '/no/such/test.csv' does not exist

            """)
    }

    @Test func missingFileAndBadArgumentsExitTwo() throws {
        let missing = try run(["check", "no/such/flow.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "cannot open flow file 'no/such/flow.yaml': no such file\n")
        #expect(try run(["check", "flows/security.yaml", "--format", "xml"]).status == 2)
        #expect(try run(["check"]).status == 2)
        #expect(try run(["frobnicate"]).status == 2)
    }

    @Test func helpExitsZero() throws {
        let result = try run(["check", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Validate a flow file and print its resolved tree."))
    }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The package root; commands run there so that `flows/…` paths work as in the README.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

/// `rows` generated orders in `directory/data` and the shipped orders flow pointed at them, as
/// `directory/orders.yaml`. With a few thousand rows, batches of 512 would give three steps an
/// epoch, too few for the model to predict any cancellation, and the predicted view needs some:
/// the flow trains on batches of 64.
func smallOrdersFlow(in directory: URL, rows: Int) throws -> URL {
    let data = directory.appendingPathComponent("data")
    #expect(try run(["datasets", "orders", "--out", data.path, "--n", String(rows)]).status == 0)
    let text = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/orders.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "../datasets/orders/", with: data.path + "/")
        .replacingOccurrences(of: "batch_size: 512", with: "batch_size: 64")
    let flow = directory.appendingPathComponent("orders.yaml")
    try text.write(to: flow, atomically: true, encoding: .utf8)
    return flow
}

/// The `flowtrain` binary built beside this test bundle.
let flowtrainBinary: URL = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [beside, beside.deletingLastPathComponent(), repositoryRoot.appendingPathComponent(".build/debug")]
    return candidates.map { $0.appendingPathComponent("flowtrain") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
}()

/// Runs flowtrain and collects its output. With `deadline`, a command still running after that
/// many seconds is killed and the test fails, so that a command that hangs (or trains on when it
/// should refuse) cannot stop the suite; the output is read as it comes either way.
func run(_ arguments: [String], in directory: URL = repositoryRoot, deadline seconds: Double? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = flowtrainBinary
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    if let seconds {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if let seconds {
        let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        #expect(!killed, "flowtrain \(arguments.joined(separator: " ")) was still running after \(seconds) s")
    }
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// `text` written as `flows/NAME` under `root` (default: a new scratch directory), with an empty
/// file at each relative CSV path its `data:` names: `check` looks for a flow's data files.
func flowWithData(_ text: String, named name: String = "flow.yaml", under root: URL? = nil) throws -> String {
    let flows = try (root ?? scratchDirectory()).appendingPathComponent("flows")
    try FileManager.default.createDirectory(at: flows, withIntermediateDirectories: true)
    let paths = try Regex(#"(?:train|valid|test|file): *([^\s,{}/][^\s,{}]*\.csv)"#)
    for match in text.matches(of: paths) {
        guard let path = match.output[1].substring else { continue }
        let file = flows.appendingPathComponent(String(path)).standardizedFileURL
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: file.path, contents: nil)
    }
    let flow = flows.appendingPathComponent(name)
    try text.write(to: flow, atomically: true, encoding: .utf8)
    return flow.path
}

/// One scratch directory for the copies of the shipped flows, whichever tests ask for them.
private let shippedFlowCopies = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-shipped-\(UUID().uuidString)")

/// A shipped flow (`flows/…`) as `flowWithData` writes it: checkable whether or not the demo
/// data has been written.
func shippedFlow(_ path: String) throws -> String {
    try flowWithData(try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8),
                     named: URL(fileURLWithPath: path).lastPathComponent, under: shippedFlowCopies)
}
