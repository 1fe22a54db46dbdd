import Foundation
import Testing
@testable import FlowSpec

/// Every input the fuzzer (Fuzz/, `make fuzz`) found crashing the flow loader loads now as
/// located errors. New findings are added to Fuzz/Regressions/FuzzFlow/ and run here.
struct FuzzRegressionTests {
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fuzz/Regressions/FuzzFlow")
    }()

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()

    @Test func thereAreRegressionInputs() {
        #expect(!Self.files.isEmpty)
    }

    @Test(arguments: files)
    func loadsAsErrorsWithoutCrashing(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
        #expect(!diagnostics(bytes).isEmpty)
    }

    /// Two inputs that both fail, and a task with no `input:`: the hint named the first input
    /// that resolved, of which there was none.
    @Test func noResolvedInputForTheHint() {
        let result = diagnostics("inputs:\n  m:\n  t:\nflow:\n t: {type: binary}\n")
        #expect(result.contains("5:2: task 't': no 'input:' given, and with no trunk there is no default among several inputs (name one)"),
                "\(result)")
    }
}
