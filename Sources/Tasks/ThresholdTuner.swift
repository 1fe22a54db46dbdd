/// Chooses a decision threshold for a binary task (or one multilabel label) by an exact sweep
/// over every distinct score: the scores are sorted once and the confusion counts updated as
/// the threshold passes each one, O(n log n). Decoding is `score ≥ threshold`, so the value
/// reported is exactly what decoding with the chosen threshold gives.
public enum ThresholdTuner {
    /// What the threshold is chosen to maximise.
    public enum Objective: Equatable, Sendable {
        case f1, accuracy
        /// Sensitivity + specificity − 1.
        case youden
        /// The best precision among thresholds whose recall is at least `recall`.
        case precisionAtRecall(Double)
        /// The best recall among thresholds whose precision is at least `precision`.
        case recallAtPrecision(Double)
    }

    /// The chosen threshold and the objective's value there (nil when no threshold meets a
    /// constraint, or there are no rows).
    public struct Choice: Equatable, Sendable {
        public var threshold: Float
        public var value: Double
    }

    public static func tune(scores: [Float], labels: [Float], objective: Objective) -> Choice? {
        guard !scores.isEmpty else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let positives = labels.filter { $0 >= 0.5 }.count, negatives = labels.count - positives
        var counts = ConfusionCounts()
        counts.falseNegatives = positives
        counts.trueNegatives = negatives
        // Threshold above every score: nothing is predicted positive.
        var best = evaluate(counts, objective).map { Choice(threshold: scores.max()!.nextUp, value: $0) }
        var i = 0
        while i < order.count {
            // Every row with this score turns positive at once: ties decode alike.
            let score = scores[order[i]]
            while i < order.count, scores[order[i]] == score {
                if labels[order[i]] >= 0.5 {
                    counts.truePositives += 1
                    counts.falseNegatives -= 1
                } else {
                    counts.falsePositives += 1
                    counts.trueNegatives -= 1
                }
                i += 1
            }
            // Higher thresholds come first; an equal value later does not replace them.
            if let value = evaluate(counts, objective), value > (best?.value ?? -.infinity) {
                best = Choice(threshold: score, value: value)
            }
        }
        return best
    }

    static func evaluate(_ c: ConfusionCounts, _ objective: Objective) -> Double? {
        switch objective {
        case .f1: return c.f1
        case .accuracy: return c.accuracy
        case .youden:
            let negatives = c.trueNegatives + c.falsePositives
            let specificity = negatives == 0 ? 0 : Double(c.trueNegatives) / Double(negatives)
            return c.recall + specificity - 1
        case .precisionAtRecall(let minimum):
            return c.recall >= minimum && c.truePositives + c.falsePositives > 0 ? c.precision : nil
        case .recallAtPrecision(let minimum):
            return c.truePositives + c.falsePositives > 0 && c.precision >= minimum ? c.recall : nil
        }
    }
}
