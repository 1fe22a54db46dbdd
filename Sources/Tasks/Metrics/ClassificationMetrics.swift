/// Metrics of a classification task: `accuracy_1`, and `accuracy_3` / `accuracy_5` when there
/// are more classes than that (top-k accuracy); macro-averaged `f1_score`, `precision` and
/// `recall` over the classes that occur among the labels or the predictions.
public enum ClassificationMetrics {
    /// `probabilities` holds `classes` values per counted row; `labels` the class indices.
    public static func compute(probabilities: [Float], classes: Int, labels: [Int]) -> [Metric] {
        precondition(probabilities.count == labels.count * classes)
        let n = labels.count
        guard n > 0 else { return [] }
        var topK = [1: 0, 3: 0, 5: 0]
        var counts = [ConfusionCounts](repeating: ConfusionCounts(), count: classes)
        var occurs = [Bool](repeating: false, count: classes)
        for (row, label) in labels.enumerated() {
            let p = probabilities[(row * classes)..<((row + 1) * classes)]
            // The label's rank: how many classes score strictly higher (ties favour the label).
            let rank = p.filter { $0 > p[p.startIndex + label] }.count
            for k in topK.keys where rank < k { topK[k]! += 1 }
            let predicted = p.indices.max { p[$0] < p[$1] }! - p.startIndex
            for c in 0..<classes { counts[c].add(predicted: predicted == c, actual: label == c) }
            occurs[label] = true
            occurs[predicted] = true
        }
        var metrics = [Metric("accuracy_1", Double(topK[1]!) / Double(n), count: n)]
        for k in [3, 5] where classes > k { metrics.append(Metric("accuracy_\(k)", Double(topK[k]!) / Double(n), count: n)) }
        let present = (0..<classes).filter { occurs[$0] }
        func macro(_ value: (ConfusionCounts) -> Double) -> Double {
            present.map { value(counts[$0]) }.reduce(0, +) / Double(present.count)
        }
        metrics += [Metric("f1_score", macro(\.f1), count: n), Metric("precision", macro(\.precision), count: n),
                    Metric("recall", macro(\.recall), count: n)]
        return metrics
    }
}
