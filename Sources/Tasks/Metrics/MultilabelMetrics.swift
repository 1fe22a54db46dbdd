/// Metrics of a multilabel task over the labels it counts on: `accuracy` (of each label
/// decision), `f1_score_micro` (pooled counts) and `f1_score_macro` (mean over labels that
/// occur among the labels or predictions).
public enum MultilabelMetrics {
    /// `scores`, `labels` and `counted` hold `labelCount` values per row; only counted entries
    /// take part. A label is on where its score reaches its threshold (0.5 when none given).
    public static func compute(scores: [Float], labels: [Float], counted: [Bool], labelCount: Int,
                               thresholds: [Float] = []) -> [Metric] {
        precondition(scores.count == labels.count && labels.count == counted.count)
        var pooled = ConfusionCounts()
        var perLabel = [ConfusionCounts](repeating: ConfusionCounts(), count: labelCount)
        for i in scores.indices where counted[i] {
            let predicted = scores[i] >= (thresholds.isEmpty ? 0.5 : thresholds[i % labelCount]), actual = labels[i] >= 0.5
            pooled.add(predicted: predicted, actual: actual)
            perLabel[i % labelCount].add(predicted: predicted, actual: actual)
        }
        let n = pooled.total
        guard n > 0 else { return [] }
        let occurring = perLabel.filter { $0.truePositives + $0.falsePositives + $0.falseNegatives > 0 }
        let macro = occurring.isEmpty ? 0 : occurring.map(\.f1).reduce(0, +) / Double(occurring.count)
        return [Metric("accuracy", pooled.accuracy, count: n), Metric("f1_score_micro", pooled.f1, count: n),
                Metric("f1_score_macro", macro, count: n)]
    }
}
