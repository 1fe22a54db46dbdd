/// The confusion counts as the threshold comes down past each distinct score, highest first.
struct ScoreSweep {
    struct Step {
        var threshold: Float
        var counts: ConfusionCounts
    }

    var positives = 0, negatives = 0
    /// Nothing predicted positive.
    var start = ConfusionCounts()
    /// A threshold above every score (`BestThreshold`'s choice when nothing positive is best).
    var aboveAll: Float = .infinity
    var steps: [Step] = []

    init(scores: [Float], labels: [Float]) {
        precondition(scores.count == labels.count)
        for label in labels where label >= 0.5 { positives += 1 }
        negatives = labels.count - positives
        start.falseNegatives = positives
        start.trueNegatives = negatives
        // NaN scores stay predicted negative: they are left out of the order.
        let order = ScoreOrder.ascending(scores).reversed().filter { !scores[$0].isNaN }
        guard let first = order.first else { return }
        aboveAll = scores[first].nextUp
        var counts = start
        var i = 0
        while i < order.count {
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
            steps.append(Step(threshold: score, counts: counts))
        }
    }
}
