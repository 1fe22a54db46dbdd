import FlowSpec

/// How well a task's activated scores match how often they are right, for the task types whose
/// activation is a probability: `expected_calibration_error` over 15 equal-width bins and
/// `brier_score`.
///
/// - Binary: each row gives the pair (σ, label); multilabel: each label of each row, pooled.
/// - Classification: the top class's probability and whether the top class (the first on a
///   tie, as decoding picks it) is the label.
///
/// ECE = Σ_b (n_b / n) |accuracy_b − confidence_b|, bin b holding the pairs with
/// min(⌊15 p⌋, 14) = b. Brier: the mean of (p − y)² (binary; multilabel over rows and labels),
/// and for classification the mean over rows of Σ_k (p_k − y_k)², the multi-class Brier score
/// (0 at best, 2 at worst).
public enum CalibrationMetrics {
    public static let binCount = 15

    /// One bin of a reliability diagram.
    public struct Bin: Sendable, Equatable {
        /// [lower, upper) of the confidences it holds (the last bin includes 1).
        public var lower: Double, upper: Double
        public var count: Int
        /// The mean confidence and the share right (or positive) of the pairs in it; NaN when empty.
        public var confidence: Double
        public var accuracy: Double

        public init(lower: Double, upper: Double, count: Int, confidence: Double, accuracy: Double) {
            self.lower = lower
            self.upper = upper
            self.count = count
            self.confidence = confidence
            self.accuracy = accuracy
        }
    }

    /// The (confidence, outcome) pairs of a task's counted rows: `scores` are activations
    /// (`width` per row), `labels` as the task's targets hold them.
    public static func pairs(_ type: TaskType, scores: [Float], labels: [Float],
                             width: Int) -> (confidences: [Double], outcomes: [Double]) {
        switch type {
        case .classification, .tokenClassification:
            guard width > 0 else { return ([], []) }
            var confidences: [Double] = [], outcomes: [Double] = []
            for r in 0..<(scores.count / width) {
                var top = r * width
                for i in (r * width)..<((r + 1) * width) where scores[i] > scores[top] { top = i }
                confidences.append(Double(scores[top]))
                outcomes.append(top - r * width == Int(labels[r]) ? 1 : 0)
            }
            return (confidences, outcomes)
        default:
            return (scores.map(Double.init), labels.map { $0 >= 0.5 ? 1 : 0 })
        }
    }

    /// The 15 bins of a reliability diagram; empty when a confidence is not a number (a
    /// diverged model), which has no bin.
    public static func bins(confidences: [Double], outcomes: [Double]) -> [Bin] {
        guard !confidences.contains(where: { $0.isNaN }) else { return [] }
        var count = [Int](repeating: 0, count: binCount)
        var confidence = [Double](repeating: 0, count: binCount), right = [Double](repeating: 0, count: binCount)
        for (p, y) in zip(confidences, outcomes) {
            let b = min(max(Int(min(max(p, 0), 1) * Double(binCount)), 0), binCount - 1)
            count[b] += 1
            confidence[b] += p
            right[b] += y
        }
        return (0..<binCount).map { b in
            Bin(lower: Double(b) / Double(binCount), upper: Double(b + 1) / Double(binCount), count: count[b],
                confidence: count[b] == 0 ? .nan : confidence[b] / Double(count[b]),
                accuracy: count[b] == 0 ? .nan : right[b] / Double(count[b]))
        }
    }

    /// Σ_b (n_b / n) |accuracy_b − confidence_b|; NaN without bins.
    public static func expectedCalibrationError(_ bins: [Bin]) -> Double {
        let total = bins.reduce(0) { $0 + $1.count }
        guard total > 0 else { return .nan }
        return bins.filter { $0.count > 0 }
            .reduce(0) { $0 + Double($1.count) / Double(total) * abs($1.accuracy - $1.confidence) }
    }

    /// The Brier score of the counted rows (see the type's description).
    public static func brierScore(_ type: TaskType, scores: [Float], labels: [Float], width: Int) -> Double {
        guard width > 0, !scores.isEmpty else { return .nan }
        var total = 0.0
        switch type {
        case .classification, .tokenClassification:
            for (i, p) in scores.enumerated() {
                let y: Double = i % width == Int(labels[i / width]) ? 1 : 0
                total += (Double(p) - y) * (Double(p) - y)
            }
            return total / Double(scores.count / width)
        default:
            for (p, y) in zip(scores, labels) { total += (Double(p) - Double(y)) * (Double(p) - Double(y)) }
            return total / Double(scores.count)
        }
    }

    /// `expected_calibration_error` and `brier_score`, counted over pairs (rows, or rows ×
    /// labels for multilabel); nothing for the other task types or without rows.
    public static func compute(_ type: TaskType, scores: [Float], labels: [Float], width: Int) -> [Metric] {
        guard TemperatureFit.applies(to: type), !scores.isEmpty else { return [] }
        let (confidences, outcomes) = pairs(type, scores: scores, labels: labels, width: width)
        let ece = expectedCalibrationError(bins(confidences: confidences, outcomes: outcomes))
        return [Metric("expected_calibration_error", ece, count: confidences.count),
                Metric("brier_score", brierScore(type, scores: scores, labels: labels, width: width),
                       count: confidences.count)]
    }
}
