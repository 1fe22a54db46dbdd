import Evaluation
import FileFormats
import FlowSpec
import Foundation
import Tasks
import Training

/// The SVG plots of a run, in `plots/`: learning curves per task (from `metrics.csv`, written by
/// `train`), confusion matrices, ROC and precision–recall curves and predicted against actual
/// on the evaluated split (written by `eval`), and the metric against the threshold for every tuned decision (written
/// by `tune-thresholds`). File names start with the plot's kind and hold the task path.
public enum RunPlots {
    static let directory = "plots"

    /// Learning curves: per task, the loss and its headline metric by epoch, train and valid.
    public static func writeLearningCurves(_ run: RunDirectory, tasks: [ResolvedTask]) throws(Problem) {
        let log = MetricsTable.read(path: run.path("metrics.csv"))
        for task in tasks {
            let path = task.path.description
            for metric in ["loss", headline(task.spec.type)] {
                let series = ["train", "valid"].compactMap { split -> LineChart.Series? in
                    let points = log.values(path: path, metric: metric, split: split)
                    return points.isEmpty ? nil : LineChart.Series(name: split, points: points, dashed: split == "valid")
                }
                guard !series.isEmpty else { continue }
                let chart = LineChart(title: "\(path): \(metric)", xLabel: "epoch", yLabel: metric, series: series)
                try write(chart.svg(), run, "learning-\(metric == "loss" ? "loss" : "metric")", path)
            }
        }
    }

    /// Confusion matrices for classification tasks, ROC and precision–recall curves for binary
    /// tasks, predicted against actual for regression tasks, on the rows each task counts on
    /// with ground-truth preconditions (the titles give their number).
    public static func writeEvaluation(_ predictions: SplitPredictions, split: String, run: RunDirectory) throws(Problem) {
        removePlots(["confusion", "roc", "pr", "predicted-actual"], run)  // an earlier eval's would mix with this one's
        let data = predictions.outputs.split
        for (t, task) in predictions.tasks.enumerated() {
            let path = task.path.description
            let rows = (0..<data.rows).filter { data.counts[t][$0] }
            let where_ = "\(split), \(rows.count) rows"
            switch task.spec.type {
            case .classification:
                let names = predictions.decoders[t].names
                guard !names.isEmpty else { continue }
                var counts = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: names.count)
                for r in rows {
                    guard case .classIndex(let predicted) = predictions.decoded[t][r].value else { continue }
                    let actual = Int(data.targets[t][r])
                    if actual < names.count, predicted < names.count { counts[actual][predicted] += 1 }
                }
                let chart = ConfusionMatrixChart(title: "\(path) (\(where_))", classNames: names, counts: counts)
                try write(chart.svg(), run, "confusion", path)
            case .binary:
                let scores = rows.map { predictions.decoded[t][$0].activated[0] }
                let labels = rows.map { data.targets[t][$0] }
                let roc = BinaryCurves.roc(scores: scores, labels: labels)
                if !roc.isEmpty {
                    let chart = LineChart(title: "\(path) ROC (\(where_))", xLabel: "false positive rate",
                                          yLabel: "true positive rate",
                                          series: [LineChart.Series(name: "ROC", points: roc.map { ($0.x, $0.y) })],
                                          xRange: 0...1, yRange: 0...1, diagonal: true)
                    try write(chart.svg(), run, "roc", path)
                }
                let pr = BinaryCurves.precisionRecall(scores: scores, labels: labels)
                if !pr.isEmpty {
                    let chart = LineChart(title: "\(path) PR (\(where_))", xLabel: "recall",
                                          yLabel: "precision",
                                          series: [LineChart.Series(name: "PR", points: pr.map { ($0.x, $0.y) })],
                                          xRange: 0...1, yRange: 0...1)
                    try write(chart.svg(), run, "pr", path)
                }
            case .regression, .boundedRegression:
                let decoder = predictions.decoders[t]
                let pairs = rows.compactMap { r -> (actual: Double, predicted: Double)? in
                    guard case .number(let predicted) = predictions.decoded[t][r].value else { return nil }
                    return (decoder.labelNumber(data.targets[t][r]), predicted)
                }
                try write(PredictedActualChart(title: "\(path) (\(where_))", pairs: pairs).svg(), run, "predicted-actual", path)
            default:
                continue
            }
        }
    }

    /// A reliability diagram per binary, multilabel and classification task, on the rows it
    /// counts on with ground-truth preconditions: the scores at the decoders' temperatures, and
    /// the raw ones beside them where a temperature is not 1.
    public static func writeReliability(_ outputs: SplitOutputs, tasks: [ResolvedTask], decoders: [TaskDecoder],
                                        split: String, run: RunDirectory) throws(Problem) {
        removePlots(["reliability"], run)
        let data = outputs.split
        for (t, task) in tasks.enumerated() where TemperatureFit.applies(to: decoders[t].output.type) {
            let output = decoders[t].output
            let width = output.units, targetWidth = output.targetShape.reduce(1, *)
            let rows = (0..<data.rows).filter { data.counts[t][$0] }
            let labels = rows.flatMap { data.targets[t][($0 * targetWidth)..<(($0 + 1) * targetWidth)] }
            func series(_ temperature: Float, _ name: String, dashed: Bool) -> ReliabilityChart.Series {
                let scores = rows.flatMap { TaskPredictions.activate(output.type, Array(outputs.logits(t, $0)),
                                                                     temperature: temperature) }
                let pairs = CalibrationMetrics.pairs(output.type, scores: scores, labels: labels, width: width)
                let bins = CalibrationMetrics.bins(confidences: pairs.confidences, outcomes: pairs.outcomes)
                let ece = CalibrationMetrics.expectedCalibrationError(bins)
                return ReliabilityChart.Series(name: "\(name), ECE \(String(format: "%.4f", ece))", bins: bins, dashed: dashed)
            }
            let temperature = decoders[t].temperature
            var lines = [series(1, "uncalibrated", dashed: temperature != 1)]
            if temperature != 1 { lines.append(series(temperature, "T = \(String(format: "%.3g", temperature))", dashed: false)) }
            let path = task.path.description
            let chart = ReliabilityChart(title: "\(path): reliability (\(split), \(rows.count) rows)",
                                         yLabel: output.type == .classification ? "accuracy" : "fraction positive",
                                         series: lines)
            try write(chart.svg(), run, "reliability", path)
        }
    }

    /// The objective against the threshold for each tuned decision, as steps, the chosen
    /// threshold marked on the curve.
    public static func writeThresholds(_ tuned: [ThresholdTuning.Tuned], objective: BestThreshold.Objective,
                                       split: String, run: RunDirectory) throws(Problem) {
        removePlots(["threshold"], run)
        var labelsSeen: [String: Int] = [:]
        for item in tuned {
            let curve = BinaryCurves.metricByThreshold(scores: item.scores, labels: item.labels, objective: objective)
            let name = item.label.map { "\(item.path) [\($0)]" } ?? item.path
            let chart = LineChart(
                title: "\(name): \(objective.name) by threshold (\(split), \(item.entry.rows) rows)",
                xLabel: "threshold", yLabel: objective.name,
                series: [LineChart.Series(name: objective.name,
                                          points: ThresholdSteps.points(curve, scores: item.scores, lower: 0, upper: 1))],
                xRange: 0...1,
                marker: LineChart.Marker(x: Double(item.entry.threshold), y: item.entry.after,
                                         label: String(format: "%.3f → %.4f", item.entry.threshold, item.entry.after)))
            // Labels are any text: the label's position keeps file names apart once made safe.
            let labelIndex = labelsSeen[item.path, default: 0]
            labelsSeen[item.path] = labelIndex + 1
            try write(chart.svg(), run, "threshold", item.path + (item.label.map { "-\(labelIndex)-\($0)" } ?? ""))
        }
    }

    /// Removes the plots of these kinds that an earlier command wrote.
    static func removePlots(_ kinds: [String], _ run: RunDirectory) {
        let directory = run.path(Self.directory)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where kinds.contains(where: { file.hasPrefix($0 + "-") }) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }

    /// The metric a task's learning curve shows besides its loss.
    static func headline(_ type: TaskType) -> String {
        switch type {
        case .binary: "f1_score"
        case .classification, .tokenClassification: "accuracy_1"
        case .multilabel: "f1_score_micro"
        case .boundedRegression, .regression: "mean_absolute_error"
        case .maskedLanguageModel: "masked_accuracy"
        }
    }

    /// `plots/<kind>-<name>.svg`, the name made safe for any file system.
    static func write(_ svg: String, _ run: RunDirectory, _ kind: String, _ name: String) throws(Problem) {
        try run.write("\(directory)/\(kind)-\(Interpretation.safeName(name)).svg", Data(svg.utf8), createDirectory: true)
    }
}

/// `metrics.csv` read back: values by task, metric and split, in epoch order, indexed so that
/// looking up one task's curve does not scan every task's rows.
struct MetricsTable {
    private var curves: [Key: [(x: Double, y: Double)]] = [:]

    private struct Key: Hashable {
        var path: String, metric: String, split: String
    }

    static func read(path: String) -> MetricsTable {
        guard let table = try? CSVTable.read(path: path),
              let epoch = table.column("epoch"), let split = table.column("split"), let task = table.column("task_path"),
              let metric = table.column("metric_name"), let value = table.column("value") else { return MetricsTable() }
        var result = MetricsTable()
        for r in 0..<table.rowCount {
            guard let e = Int(table.string(row: r, column: epoch)), let v = Double(table.string(row: r, column: value))
            else { continue }
            let key = Key(path: table.string(row: r, column: task), metric: table.string(row: r, column: metric),
                          split: table.string(row: r, column: split))
            result.curves[key, default: []].append((Double(e), v))
        }
        return result
    }

    func values(path: String, metric: String, split: String) -> [(x: Double, y: Double)] {
        curves[Key(path: path, metric: metric, split: split)] ?? []
    }
}
