import Foundation
import Testing

/// `flowtrain embed`: a branch's output per row, and an unknown branch refused with its name.
struct EmbedCommandTests {
    @Test func writesTheBranchOutputOfEveryRow() throws {
        let (directory, runDirectory) = try ExportCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("test.csv").path
        let embedded = try run(["embed", runDirectory.path, "--data", data])
        #expect(embedded.status == 0, "\(embedded.stderr)")
        let written = runDirectory.appendingPathComponent("embeddings-t-test.csv")
        #expect(embedded.stderr == "wrote 16 rows of 8 values to \(written.path)\n")
        let lines = try String(contentsOf: written, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 17 && lines[0] == "row,t.0,t.1,t.2,t.3,t.4,t.5,t.6,t.7")
        // The branch ends in a ReLU: no value is negative, and every value reads back as a float.
        let values = lines.dropFirst().flatMap { $0.split(separator: ",").dropFirst().map { Float(String($0)) } }
        #expect(values.count == 16 * 8 && values.allSatisfy { $0.map { $0 >= 0 } ?? false })

        let unknown = try run(["embed", runDirectory.path, "--data", data, "--branch", "tt"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "\(runDirectory.path)/flow.yaml: the flow has no trunk branch 'tt' (did you mean 't'?)\n")
    }
}
