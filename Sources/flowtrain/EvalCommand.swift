import ArgumentParser
import Evaluation
import FileFormats
import Foundation
import Report
import Training

/// `flowtrain eval RUN_DIR`: every task's metrics, with ground-truth and predicted preconditions.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained run on a split of its data, or on any labelled CSV.",
        discussion: """
            Reads everything from the run directory (flow, data statistics, thresholds.yaml \
            when tuned, calibration.yaml when calibrated, the best weights) and reports every \
            task's metrics twice: on the rows where its precondition holds on the labels \
            (ground_truth), and where it holds on the model's own decisions (predicted, what \
            deployment sees); binary, multilabel and classification tasks add \
            expected_calibration_error and brier_score. Writes evaluation.csv and \
            predictions.csv, the plots (reliability diagrams too), the best and worst samples per task \
            (interpretation/) and report.html in the run directory, and prints the table. \
            See docs/commands/eval.md.
            """)

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var source: DataOptions

    func run() throws {
        do {
            let trained = try runOptions.open()
            let (split, name) = try source.load(trained, labels: .optional)
            let (_, predictions) = try trained.predict(split)
            let rows = RunEvaluation.rows(predictions, split: name)
            try write(RunEvaluation.csv(rows), to: trained.directory.path("evaluation.csv"))
            try write(PredictionTable.csv(predictions, tree: trained.flow.tree), to: trained.directory.path("predictions.csv"))
            try RunReport.refresh(trained.directory, flow: trained.flow, after: .evaluation(predictions, split: name))
            CommandOutput.table([RunEvaluation.header] + rows.map {
                [$0.taskPath, $0.metric.name, String(format: "%.4f", $0.metric.value), String($0.metric.count),
                 $0.preconditions, $0.split]
            })
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}

/// Writes a CSV, turning a failure into a located error.
func write(_ csv: CSVWriter, to path: String) throws(Problem) {
    do { try csv.write(to: path) } catch {
        throw Problem(file: path, message: "cannot be written: \(error.localizedDescription)")
    }
}
