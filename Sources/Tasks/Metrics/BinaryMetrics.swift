/// Metrics of a binary task: `accuracy`, `precision`, `recall`, `f1_score` at a threshold on
/// the activated score, and `roc_auc` (threshold-free; left out when only one class is present,
/// where it is undefined).
public enum BinaryMetrics {
    /// `scores` are activated (σ of the logit), `labels` 0 or 1, one per counted row.
    public static func compute(scores: [Float], labels: [Float], threshold: Float = 0.5) -> [Metric] {
        precondition(scores.count == labels.count)
        guard !scores.isEmpty else { return [] }
        var counts = ConfusionCounts()
        for (score, label) in zip(scores, labels) {
            counts.add(predicted: score >= threshold, actual: label >= 0.5)
        }
        let n = scores.count
        var metrics = [Metric("accuracy", counts.accuracy, count: n), Metric("precision", counts.precision, count: n),
                       Metric("recall", counts.recall, count: n), Metric("f1_score", counts.f1, count: n)]
        if let auc = rocAUC(scores: scores, labels: labels) { metrics.append(Metric("roc_auc", auc, count: n)) }
        return metrics
    }

    /// The area under the ROC curve as the Mann–Whitney statistic: the probability that a
    /// positive scores above a negative, ties counting one half (average ranks). O(n log n).
    static func rocAUC(scores: [Float], labels: [Float]) -> Double? {
        let positives = labels.filter { $0 >= 0.5 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        // NaN scores rank above every number, so that the order is total.
        let ranked = ScoreOrder.ascending(scores).map { (score: scores[$0], positive: labels[$0] >= 0.5) }
        var rankSum = 0.0, i = 0
        while i < ranked.count {
            var j = i
            while j + 1 < ranked.count, ranked[j + 1].score == ranked[i].score { j += 1 }
            let averageRank = Double(i + j) / 2 + 1  // ranks are 1-based
            for k in i...j where ranked[k].positive { rankSum += averageRank }
            i = j + 1
        }
        let u = rankSum - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }
}
