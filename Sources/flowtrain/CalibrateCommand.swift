import ArgumentParser
import Evaluation
import FileFormats
import Foundation
import Report
import Training

/// `flowtrain calibrate RUN_DIR`: a temperature per binary, multilabel and classification task.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a temperature per binary, multilabel and classification task (temperature scaling).",
        discussion: """
            For each binary, multilabel and classification task, on exactly the rows of the \
            split where its label is present and its precondition holds on the labels, finds \
            the temperature T that minimises the mean negative log-likelihood of sigmoid(z / T) \
            or softmax(z / T). Writes calibration.yaml, a reliability diagram per task and \
            refreshes report.html; eval, predict, explain and tune-thresholds use the \
            temperatures from then on. Calibrate before tune-thresholds: thresholds apply to \
            the calibrated scores. See docs/commands/calibrate.md.
            """)

    @OptionGroup var runOptions: RunOptions

    @Option(help: "The split to fit on.")
    var split: DataOptions.Split = .valid

    func run() throws {
        do {
            // The fit starts from the raw logits whatever calibration.yaml holds, and needs no
            // thresholds: neither file is read.
            let trained = try runOptions.open(thresholds: false, calibration: false)
            let data: EncodedSplit
            do throws(Problem) { data = try trained.split(split.rawValue) } catch {
                var problem = error
                if split == .valid { problem.message += " (calibrate on another with --split train)" }
                throw problem
            }
            let (model, outputs) = try trained.outputs(data)
            let tasks = model.tasks.map { $0.task }
            let calibration = TemperatureScaling.calibrate(outputs, tasks: tasks, decoders: trained.decoders(model, calibration: nil),
                                                           split: split.rawValue)
            try trained.directory.write(Calibration.fileName, Data(calibration.yaml().utf8))
            let decoders = trained.decoders(model, calibration: calibration)
            try RunReport.refresh(trained.directory, flow: trained.flow,
                                  after: .calibration(outputs, tasks: tasks, decoders: decoders, split: split.rawValue))
            func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }
            var table = [["task_path", "temperature", "rows", "nll_before", "nll_after", "ece_before", "ece_after"]]
            for (path, entry) in calibration.tasks {
                let temperature = String(format: "%.4f", Double(entry.temperature))
                table.append([path, temperature, String(entry.rows), number(entry.nllBefore), number(entry.nllAfter),
                              number(entry.eceBefore), number(entry.eceAfter)])
            }
            CommandOutput.table(table)
            if calibration.tasks.isEmpty {
                CommandOutput.error("the flow has no binary, multilabel or classification task: nothing to calibrate")
            }
            for (path, entry) in calibration.tasks {
                if let note = entry.note { CommandOutput.error("\(path): \(note)") }
            }
            if FileManager.default.fileExists(atPath: trained.directory.path("thresholds.yaml")) {
                CommandOutput.error("thresholds.yaml was tuned on other scores: run flowtrain tune-thresholds "
                                    + "\(runOptions.runDir) again")
            }
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}
