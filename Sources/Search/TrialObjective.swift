import FileFormats
import FlowSpec

/// A trial's objective, read from its run's `metrics.csv` epoch by epoch: a task's metric on a
/// split, or the weighted loss Σ weight × loss over the tasks with the search flow's own weights,
/// so that trials which search the weights themselves are still judged on one scale.
public struct TrialObjective: Sendable {
    public let objective: SearchSettings.Objective
    /// Task path → weight, for the weighted loss.
    let weights: [String: Double]

    /// Checks that the objective's metric is one its task has (a `Problem` at the metric, with a
    /// did-you-mean); the task itself was checked when the flow was loaded.
    public init(_ objective: SearchSettings.Objective, flow: ResolvedFlow) throws(Problem) {
        self.objective = objective
        weights = Dictionary(flow.tasks.map { ($0.path.description, $0.spec.weight) }, uniquingKeysWith: { a, _ in a })
        guard let path = objective.task?.value, let task = flow.tasks.first(where: { $0.path.description == path }) else { return }
        let names = Self.metrics(of: task.spec.type)
        let metric = objective.metric
        guard names.contains(metric.value) else {
            throw Problem("search.objective.metric: a \(task.spec.type.rawValue) task has no metric '\(metric.value)' "
                          + "(it has \(names.joined(separator: ", ")))", at: metric.location,
                          hint: Suggestion.hint(for: metric.value, among: names))
        }
    }

    /// The metrics `metrics.csv` holds for a task of `type` (docs/run-directory.md).
    public static func metrics(of type: TaskType) -> [String] {
        switch type {
        case .binary: ["loss", "accuracy", "precision", "recall", "f1_score", "roc_auc"]
        case .classification: ["loss", "accuracy_1", "accuracy_3", "accuracy_5", "f1_score", "precision", "recall"]
        case .tokenClassification: ["loss", "accuracy_1", "accuracy_3", "accuracy_5", "f1_score", "precision", "recall",
                                    "entity_f1", "entity_precision", "entity_recall"]
        case .maskedLanguageModel: ["loss", "masked_accuracy", "perplexity"]
        case .multilabel: ["loss", "accuracy", "f1_score_micro", "f1_score_macro"]
        case .boundedRegression, .regression: ["loss", "mean_absolute_error", "rmse", "r2"]
        }
    }

    /// The objective after each epoch `metrics.csv` at `path` holds (index 0 is epoch 1); NaN
    /// for an epoch without the value (`roc_auc` of a split with one class).
    public func curve(metricsAt path: String) throws(Problem) -> [Double] {
        let table = try CSVTable.read(path: path)
        guard let epochColumn = table.column("epoch"), let splitColumn = table.column("split"),
              let taskColumn = table.column("task_path"), let nameColumn = table.column("metric_name"),
              let valueColumn = table.column("value") else {
            throw Problem(file: path, message: "is not a metrics.csv: it lacks epoch, split, task_path, metric_name or value")
        }
        var values: [Int: Double] = [:]
        for row in 0..<table.rowCount {
            guard table.string(row: row, column: splitColumn) == objective.split,
                  let epoch = Int(table.string(row: row, column: epochColumn)), epoch >= 1,
                  let value = table.number(row: row, column: valueColumn) else { continue }
            let task = table.string(row: row, column: taskColumn), name = table.string(row: row, column: nameColumn)
            if let wanted = objective.task?.value {
                if task == wanted, name == objective.metric.value { values[epoch] = value }
            } else if name == "loss" {
                // A task with no row counted nothing that epoch, and adds nothing, as in training.
                values[epoch, default: 0] += (weights[task] ?? 1) * value
            }
        }
        let epochs = (0..<table.rowCount).compactMap { Int(table.string(row: $0, column: epochColumn)) }.max() ?? 0
        return epochs > 0 ? (1...epochs).map { values[$0] ?? .nan } : []
    }
}
