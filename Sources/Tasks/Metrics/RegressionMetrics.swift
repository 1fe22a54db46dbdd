/// Metrics of a regression or bounded regression, in the label's own units (the caller undoes
/// the scale or the standardisation): `mean_absolute_error`, `rmse`, and `r2` when the labels
/// vary.
public enum RegressionMetrics {
    public static func compute(predictions: [Double], labels: [Double]) -> [Metric] {
        precondition(predictions.count == labels.count)
        let n = labels.count
        guard n > 0 else { return [] }
        var absolute = 0.0, squared = 0.0
        for (p, y) in zip(predictions, labels) {
            absolute += abs(p - y)
            squared += (p - y) * (p - y)
        }
        var metrics = [Metric("mean_absolute_error", absolute / Double(n), count: n),
                       Metric("rmse", (squared / Double(n)).squareRoot(), count: n)]
        let mean = labels.reduce(0, +) / Double(n)
        let total = labels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        if total > 0 { metrics.append(Metric("r2", 1 - squared / total, count: n)) }
        return metrics
    }
}
