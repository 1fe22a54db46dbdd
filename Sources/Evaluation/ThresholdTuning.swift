import Tasks
import Training

/// `flowtrain tune-thresholds`: for each binary task and each multilabel label, the threshold
/// that maximises the objective on exactly the rows where its label is present and its
/// ground-truth precondition holds (the rows its metrics count, docs/semantics.md), on the scores
/// as the run's decoders activate them (calibrated when `calibration.yaml` exists), each chosen
/// by `BestThreshold`.
public enum ThresholdTuning {
    /// One decision that was tuned, with the scores and labels it was tuned on (for the
    /// metric-versus-threshold plot).
    public struct Tuned {
        public var path: String
        /// The label, for a multilabel task.
        public var label: String?
        public var entry: Thresholds.Entry
        public var scores: [Float]
        public var labels: [Float]
    }

    /// A decision left at 0.5, and why.
    public struct Untuned {
        public var path: String
        public var label: String?
        public var reason: String
    }

    public static func tune(_ outputs: SplitOutputs, tasks: [CompiledTask], decoders: [TaskDecoder],
                            objective: BestThreshold.Objective) -> (tuned: [Tuned], untuned: [Untuned]) {
        let split = outputs.split
        var tuned: [Tuned] = [], untuned: [Untuned] = []
        for (t, task) in tasks.enumerated() where task.output.type == .binary || task.output.type == .multilabel {
            let path = task.task.path.description
            let width = task.output.units
            let rows = (0..<split.rows).filter { split.counts[t][$0] }
            for unit in 0..<width {
                let label = task.output.type == .multilabel ? decoders[t].names[unit] : nil
                // At the task's calibrated temperature: thresholds apply to the scores decoding sees.
                let scores = rows.map { r in
                    TaskPredictions.activate(.binary, [outputs.logits[t][r * width + unit]],
                                             temperature: decoders[t].temperature)[0]
                }
                let labels = rows.map { r in split.targets[t][r * width + unit] }
                guard let choice = BestThreshold.tune(scores: scores, labels: labels, objective: objective) else {
                    untuned.append(Untuned(path: path, label: label, reason: rows.isEmpty
                        ? "no rows with a label and a true precondition"
                        : "no threshold reaches \(objective.name)"))
                    continue
                }
                let before = BestThreshold.value(scores: scores, labels: labels, threshold: 0.5, objective: objective)
                let entry = Thresholds.Entry(threshold: choice.threshold, metric: objective.name, before: before ?? .nan,
                                             after: choice.value, rows: rows.count)
                tuned.append(Tuned(path: path, label: label, entry: entry, scores: scores, labels: labels))
            }
        }
        return (tuned, untuned)
    }

    /// The thresholds file for `tuned`, grouped per task in the flow's order.
    public static func thresholds(_ tuned: [Tuned], split: String, objective: BestThreshold.Objective) -> Thresholds {
        var result = Thresholds(split: split, metric: objective.name, tasks: [])
        for item in tuned {
            if let label = item.label {
                if case .labels(var labels)? = result.tasks.last?.thresholds, result.tasks.last?.path == item.path {
                    labels.append((label, item.entry))
                    result.tasks[result.tasks.count - 1].thresholds = .labels(labels)
                } else {
                    result.tasks.append((item.path, .labels([(label, item.entry)])))
                }
            } else {
                result.tasks.append((item.path, .binary(item.entry)))
            }
        }
        return result
    }
}
