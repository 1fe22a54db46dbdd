import Foundation

/// Metrics of a masked language model over the tokens it masked: `masked_accuracy`, the share
/// whose top id was the original, and `perplexity`, e to the mean cross-entropy.
public enum MaskedLanguageModelMetrics {
    /// Per masked token its cross-entropy and 1 or 0 for a right or wrong top id.
    public static func compute(losses: [Float], hits: [Float]) -> [Metric] {
        let n = losses.count
        guard n > 0 else { return [] }
        let meanLoss = losses.reduce(0.0) { $0 + Double($1) } / Double(n)
        let right = hits.reduce(0.0) { $0 + Double($1) }
        return [Metric("masked_accuracy", right / Double(n), count: n), Metric("perplexity", exp(meanLoss), count: n)]
    }
}
