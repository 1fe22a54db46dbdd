import ArgumentParser
import Evaluation
import FileFormats
import Foundation
import Report
import Tasks
import Training

/// `flowtrain tune-thresholds RUN_DIR`: decision thresholds for binary tasks and multilabel labels.
struct TuneThresholdsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-thresholds",
        abstract: "Choose the decision threshold of every binary task and multilabel label.",
        discussion: """
            For each binary task and each multilabel label, on exactly the rows of the split \
            where its label is present and its precondition holds on the labels, sweeps every \
            distinct score and keeps the threshold that maximises --metric (ties go to the \
            higher threshold, in the middle of its gap). Writes thresholds.yaml, a plot of the \
            metric by threshold per decision, and refreshes report.html; eval, explain and \
            predict decode with the thresholds from then on. Scores are calibrated when the run \
            has calibration.yaml: calibrate first, then tune. See docs/commands/tune-thresholds.md.
            """)

    @OptionGroup var runOptions: RunOptions

    @Option(help: "The split to tune on.")
    var split: DataOptions.Split = .valid

    @Option(help: "What to maximise: f1, accuracy, youden, precision@R (best precision with recall ≥ R) or recall@P.")
    var metric = "f1"

    func validate() throws {
        guard BestThreshold.Objective(metric) != nil else {
            throw ValidationError("--metric must be f1, accuracy, youden, precision@R or recall@P with R, P in [0, 1]; "
                                 + "got '\(metric)'")
        }
    }

    func run() throws {
        guard let objective = BestThreshold.Objective(metric) else { return }
        do {
            let trained = try runOptions.open(thresholds: false)
            let data: EncodedSplit
            do throws(Problem) { data = try trained.split(split.rawValue) } catch {
                var problem = error
                if split == .valid { problem.message += " (tune on another with --split train)" }
                throw problem
            }
            // Tuning starts from 0.5 everywhere: the scores do not depend on the thresholds (they
            // do on calibration.yaml's temperatures, which the decoders carry).
            let (model, outputs) = try trained.outputs(data)
            let (tuned, untuned) = ThresholdTuning.tune(outputs, tasks: model.tasks, decoders: trained.decoders(model),
                                                        objective: objective)
            let thresholds = ThresholdTuning.thresholds(tuned, split: split.rawValue, objective: objective)
            try trained.directory.write("thresholds.yaml", Data(thresholds.yaml().utf8))
            try RunReport.refresh(trained.directory, flow: trained.flow,
                                  after: .thresholds(tuned, objective: objective, split: split.rawValue))
            CommandOutput.table([["task_path", "label", "threshold", "metric", "before", "after", "rows"]] + tuned.map {
                [$0.path, $0.label ?? "", String(format: "%.4f", $0.entry.threshold), $0.entry.metric,
                 String(format: "%.4f", $0.entry.before), String(format: "%.4f", $0.entry.after), String($0.entry.rows)]
            })
            for item in untuned {
                CommandOutput.error("\(item.path)\(item.label.map { " (\($0))" } ?? ""): left at 0.5, \(item.reason)")
            }
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}
