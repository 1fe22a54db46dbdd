/// One point of a curve drawn from a binary score, and the threshold that gives it when decoding
/// with `score ≥ threshold`.
public struct CurvePoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var threshold: Float

    public init(x: Double, y: Double, threshold: Float) {
        self.x = x
        self.y = y
        self.threshold = threshold
    }
}

/// Exact ROC and precision–recall curves of a binary score (or one multilabel label), and any
/// tuning objective as a function of the threshold. Like `BestThreshold`, the scores are sorted
/// once and there is one point per distinct score: rows with equal scores decode alike, so they
/// move together. Labels ≥ 0.5 are positive. A NaN score is never `≥` a threshold, so its row
/// counts as predicted negative at every threshold, as decoding treats it.
public enum BinaryCurves {
    /// False-positive rate on x, true-positive rate on y, thresholds descending, as
    /// scikit-learn's `roc_curve(drop_intermediate=False)`: from (0, 0) at a threshold above
    /// every score to (1, 1) at the lowest score (lower when some scores are NaN). Empty when
    /// there are no positives or no negatives, where the rates are undefined, or when no score
    /// is a number.
    public static func roc(scores: [Float], labels: [Float]) -> [CurvePoint] {
        let sweep = ScoreSweep(scores: scores, labels: labels)
        guard sweep.positives > 0, sweep.negatives > 0, !sweep.steps.isEmpty else { return [] }
        let (positives, negatives) = (Double(sweep.positives), Double(sweep.negatives))
        var points = [CurvePoint(x: 0, y: 0, threshold: sweep.aboveAll)]
        for step in sweep.steps {
            points.append(CurvePoint(x: Double(step.counts.falsePositives) / negatives,
                                     y: Double(step.counts.truePositives) / positives, threshold: step.threshold))
        }
        return points
    }

    /// Recall on x, precision on y, thresholds ascending, as scikit-learn's
    /// `precision_recall_curve`: one point per distinct score, then (0, 1) at a threshold above
    /// every score, where nothing is predicted positive and precision is 1 by convention. Empty
    /// when there are no positives, where recall is undefined, or when no score is a number.
    public static func precisionRecall(scores: [Float], labels: [Float]) -> [CurvePoint] {
        let sweep = ScoreSweep(scores: scores, labels: labels)
        guard sweep.positives > 0, !sweep.steps.isEmpty else { return [] }
        var points: [CurvePoint] = []
        for step in sweep.steps.reversed() {
            points.append(CurvePoint(x: step.counts.recall, y: step.counts.precision, threshold: step.threshold))
        }
        points.append(CurvePoint(x: 0, y: 1, threshold: sweep.aboveAll))
        return points
    }

    /// The threshold on x and the objective's value when decoding with `score ≥ threshold` on
    /// y, thresholds ascending, over the same candidates `BestThreshold.tune` sweeps (every
    /// distinct score and one above them all), so the value it chooses is this curve's highest.
    /// Thresholds where the objective is undefined (a constraint not met) are left out.
    public static func metricByThreshold(scores: [Float], labels: [Float],
                                         objective: BestThreshold.Objective) -> [CurvePoint] {
        let sweep = ScoreSweep(scores: scores, labels: labels)
        guard !sweep.steps.isEmpty else { return [] }
        var points: [CurvePoint] = []
        for step in sweep.steps.reversed() {
            if let value = BestThreshold.evaluate(step.counts, objective) {
                points.append(CurvePoint(x: Double(step.threshold), y: value, threshold: step.threshold))
            }
        }
        if let value = BestThreshold.evaluate(sweep.start, objective) {
            points.append(CurvePoint(x: Double(sweep.aboveAll), y: value, threshold: sweep.aboveAll))
        }
        return points
    }
}
