import Foundation
import Testing

/// `predict` without `--out` writes `predictions-<data file name>.csv` in the run, never over
/// the `predictions.csv` that `eval` wrote beside `evaluation.csv`.
struct PredictOutputTests {
    @Test func predictLeavesEvalsPredictionsAsTheyAre() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", flow.path, "--run-dir", runDirectory.path])
        #expect(training.status == 0, "\(training.stderr)")
        #expect(try run(["eval", runDirectory.path]).status == 0)
        let evals = try Data(contentsOf: runDirectory.appendingPathComponent("predictions.csv"))

        let newRows = directory.appendingPathComponent("new rows.csv")
        try "a,b,kind\n1,2,red\n4.5,-3,blue\n".write(to: newRows, atomically: true, encoding: .utf8)
        let predicted = try run(["predict", runDirectory.path, "--data", newRows.path])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let written = runDirectory.appendingPathComponent("predictions-new_rows.csv")
        #expect(predicted.stderr == "wrote 2 predictions to \(written.path)\n")
        #expect(try Data(contentsOf: runDirectory.appendingPathComponent("predictions.csv")) == evals)
        let lines = try String(contentsOf: written, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("row,open.decoded,") && lines[2].hasPrefix("1,"))
    }
}
