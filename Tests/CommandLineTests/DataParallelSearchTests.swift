import Foundation
import Testing

extension DataParallelTests {
    /// `mpirun -np 2 flowtrain search`: process r runs the trials whose number minus one is r
    /// modulo 2, each trial trains alone, and the first process gathers every part into
    /// trials.csv and writes best.yaml and search.html. A trial that fails in one process fails
    /// there only.
    @Test func twoProcessesShareASearchsTrials() throws {
        let directory = try scratchDirectory()
        let flow = try SearchCommandTests.flow(in: directory, epochs: 2, search: """
              algorithm: grid
              parameters:
                trunk.t.layers.0.dense: {choice: [4, 8, 16, 0]}
            """)
        let out = directory.appendingPathComponent("search")
        let result = try Self.mpiFlowtrain(2, ["search", flow, "--run-dir", out.path, "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        // The first process alone prints the directory.
        #expect(result.stdout == out.path + "\n")
        #expect(result.stderr.contains("process 0: search tabular: grid, 4 trials (2 in process 0)"), "\(result.stderr)")
        #expect(result.stderr.contains("process 1: search tabular: grid, 4 trials (2 in process 1)"), "\(result.stderr)")
        for (trial, rank) in [(1, 0), (2, 1), (3, 0)] {
            #expect(result.stderr.contains("process \(rank): trial \(trial) started: "), "\(result.stderr)")
        }
        #expect(result.stderr.contains("process 1: trial 4 failed: "), "\(result.stderr)")
        let rows = try SearchCommandTests.ledger(out)
        #expect(rows.map { $0["trial"] } == ["1", "2", "3", "4"])
        #expect(rows.map { $0["status"] } == ["completed", "completed", "completed", "failed"], "\(rows)")
        for trial in 1...3 {
            let state = try String(contentsOf: out.appendingPathComponent("trials/\(trial)/state.json"), encoding: .utf8)
            #expect(state.contains("\"epochsDone\" : 2"))
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("best.yaml").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("search.html").path))
    }
}
