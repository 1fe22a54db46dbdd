/// Chooses a decision threshold for a binary task (or one multilabel label) by an exact sweep
/// over every distinct score: the scores are sorted once and the confusion counts updated as
/// the threshold passes each one, O(n log n). Decoding is `score ≥ threshold`, so the value
/// reported is exactly what decoding with the chosen threshold gives. The chosen threshold lies
/// in the middle of the gap below the lowest score that reaches the best value (perfectly
/// separated scores give about 0.5), never on a score of the rows it was tuned on. One decision
/// at a time: `ThresholdTuning` (Evaluation) runs it for every decision of a trained run.
public enum BestThreshold {
    /// What the threshold is chosen to maximise.
    public enum Objective: Equatable, Sendable {
        case f1, accuracy
        /// Sensitivity + specificity − 1.
        case youden
        /// The best precision among thresholds whose recall is at least `recall`.
        case precisionAtRecall(Double)
        /// The best recall among thresholds whose precision is at least `precision`.
        case recallAtPrecision(Double)

        /// Reads `f1`, `accuracy`, `youden`, `precision@R` or `recall@P` (R, P in [0, 1]).
        public init?(_ text: String) {
            switch text {
            case "f1": self = .f1
            case "accuracy": self = .accuracy
            case "youden": self = .youden
            default:
                let parts = text.split(separator: "@", omittingEmptySubsequences: false)
                guard parts.count == 2, let bound = Double(parts[1]), (0...1).contains(bound) else { return nil }
                switch parts[0] {
                case "precision": self = .precisionAtRecall(bound)
                case "recall": self = .recallAtPrecision(bound)
                default: return nil
                }
            }
        }

        /// The spelling `init` reads.
        public var name: String {
            switch self {
            case .f1: "f1"
            case .accuracy: "accuracy"
            case .youden: "youden"
            case .precisionAtRecall(let r): "precision@\(r)"
            case .recallAtPrecision(let p): "recall@\(p)"
            }
        }
    }

    /// The objective's value when decoding at `threshold` (nil where it is undefined).
    public static func value(scores: [Float], labels: [Float], threshold: Float, objective: Objective) -> Double? {
        var counts = ConfusionCounts()
        for (score, label) in zip(scores, labels) { counts.add(predicted: score >= threshold, actual: label >= 0.5) }
        return evaluate(counts, objective)
    }

    /// The chosen threshold and the objective's value there (nil when no threshold meets a
    /// constraint, or there are no rows).
    public struct Choice: Equatable, Sendable {
        public var threshold: Float
        public var value: Double
    }

    public static func tune(scores: [Float], labels: [Float], objective: Objective) -> Choice? {
        // A NaN score (a diverged model) never reaches a threshold: its row stays negative.
        let sweep = ScoreSweep(scores: scores, labels: labels)
        guard let top = sweep.steps.first?.threshold else { return nil }
        // The best value, and the run of distinct scores from `high` down to `low` where
        // decoding reaches it (`lowStep` indexes `low`; -1 is "above every score", where
        // nothing is predicted positive).
        var best: (value: Double, high: Float, low: Float, lowStep: Int)?
            = evaluate(sweep.start, objective).map { ($0, .infinity, .infinity, -1) }
        var onPlateau = best != nil
        for (index, step) in sweep.steps.enumerated() {
            // Every row with this score turns positive at once: ties decode alike.
            let value = evaluate(step.counts, objective), score = step.threshold
            if let value, value > (best?.value ?? -.infinity) {
                best = (value, score, score, index)
                onPlateau = true
            } else if onPlateau, let value, value == best?.value {
                best?.low = score  // the plateau goes on: a lower threshold does as well
                best?.lowStep = index
            } else {
                onPlateau = false  // a later return to the same value does not replace the first
            }
        }
        guard let best else { return nil }
        // Every threshold above the next lower score and at most `low` decodes these rows as
        // `low` does: take the middle of that gap, which holds no score, so that no tuning row
        // sits on the threshold. Scores are probabilities: with no lower score the gap starts
        // at 0, and when predicting nothing is best it ends at 1.
        let next = best.lowStep + 1
        let below = next < sweep.steps.count ? sweep.steps[next].threshold : min(0, best.low.nextDown)
        let high = best.low == .infinity ? max(1, top.nextUp) : best.low
        var middle = Float((Double(below) + Double(high)) / 2)
        if middle <= below { middle = below.nextUp }
        if middle > high { middle = high }
        return Choice(threshold: middle, value: best.value)
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
