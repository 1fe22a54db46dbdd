import ArgumentParser
import Foundation
import Training

/// `flowtrain eval RUN_DIR`: every task's metrics, with ground-truth and predicted preconditions.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained run on a split of its data.",
        discussion: """
            Reads everything from the run directory (flow, data statistics, the best weights) \
            and reports every task's metrics twice: on the rows where its precondition holds on \
            the labels (ground_truth), and where it holds on the model's own decisions \
            (predicted, what deployment sees). Writes evaluation.csv in the run directory and \
            prints the same table.
            """)

    /// The splits a run can be evaluated on.
    enum Split: String, ExpressibleByArgument, CaseIterable {
        case test, valid, train
    }

    @Argument(help: "The run directory written by `flowtrain train`.", completion: .directory)
    var runDir: String

    @Option(help: "The split to evaluate.")
    var split: Split = .test

    func run() throws {
        let run = RunDirectory(url: URL(fileURLWithPath: runDir))
        do {
            let rows = try RunEvaluation.evaluate(run: run, split: split.rawValue)
            var csv = CSVWriter(header: RunEvaluation.header)
            var table: [[String]] = [RunEvaluation.header]
            for row in rows {
                let fields = [row.taskPath, row.metric.name, String(row.metric.value), String(row.metric.count),
                              row.preconditions, row.split]
                csv.append(fields)
                table.append([row.taskPath, row.metric.name, String(format: "%.4f", row.metric.value),
                              String(row.metric.count), row.preconditions, row.split])
            }
            try csv.write(to: run.path("evaluation.csv"))
            let widths = (0..<RunEvaluation.header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
            for line in table {
                print(zip(line, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        } catch let error as DataError {
            CommandOutput.error(error.description)
            Foundation.exit(ExitStatus.badInput)
        }
    }
}
