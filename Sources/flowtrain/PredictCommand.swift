import ArgumentParser
import Evaluation
import Foundation
import Report
import Training

/// `flowtrain predict RUN_DIR --data CSV`: predictions for new, unlabelled rows.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every task for the rows of a CSV file (no label columns needed).",
        discussion: """
            Decodes with thresholds.yaml when the run has one. A task's columns are blank on a \
            row where its precondition does not hold on the model's own decisions. Writes \
            predictions-<data file name>.csv in the run directory (never eval's predictions.csv), \
            or --out. See docs/commands/predict.md.
            """)

    @OptionGroup var runOptions: RunOptions

    @Option(help: "The CSV file with the flow's input columns.", completion: .file(extensions: ["csv"]))
    var data: String

    @Option(help: "Where to write the predictions (default: RUN_DIR/predictions-<data file name>.csv; - for standard output).")
    var out: String?

    func run() throws {
        do {
            let trained = try runOptions.open()
            let (_, predictions) = try trained.predict(try trained.data(file: data, labels: .ignored))
            let csv = PredictionTable.csv(predictions, tree: trained.flow.tree)
            if out == "-" {
                print(csv.text, terminator: "")
            } else {
                let path = out ?? trained.directory.path(Self.defaultOutput(data: data))
                try write(csv, to: path)
                CommandOutput.error("wrote \(predictions.outputs.split.rows) predictions to \(path)")
            }
        } catch {
            throw CommandFailure.badInput(error)
        }
    }

    /// `predictions-new_rows.csv` for `--data "new rows.csv"`: named after the data, so that
    /// predicting on several files keeps each, and `eval`'s `predictions.csv`, which
    /// `evaluation.csv` was computed from, is never replaced.
    static func defaultOutput(data: String) -> String {
        let name = URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
        return "predictions-\(Interpretation.safeName(name)).csv"
    }
}
