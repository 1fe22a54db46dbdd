import Tasks

/// A metric by threshold drawn as the step function it is. Decoding with `score ≥ threshold`
/// changes only when the threshold passes a score, so the value at a swept threshold (a
/// distinct score) holds back to the next lower distinct score; below the lowest score it holds
/// down to the axis, and the value above every score holds up to the axis. Straight lines
/// between the swept points would show values that no threshold gives.
enum ThresholdSteps {
    /// The corners of the steps for `curve` (`BinaryCurves.metricByThreshold` of `scores`), in
    /// data coordinates, from `lower` to `upper` across. Where the metric is undefined (a
    /// constraint not met, so the curve skips thresholds) a NaN point breaks the line.
    static func points(_ curve: [CurvePoint], scores: [Float], lower: Double,
                       upper: Double) -> [(x: Double, y: Double)] {
        let distinct = Set(scores.filter { !$0.isNaN }).sorted()
        var position: [Float: Int] = [:]
        for (index, score) in distinct.enumerated() { position[score] = index }
        var points: [(x: Double, y: Double)] = []
        var previous: Float?
        for point in curve {
            // The threshold above every score is the only one that is not a score.
            let index = position[point.threshold]
            let lowerScore = index.map { $0 > 0 ? distinct[$0 - 1] : nil } ?? distinct.last
            let start = lowerScore.map(Double.init) ?? min(lower, point.x)
            let end = index == nil ? max(upper, point.x) : point.x
            if !points.isEmpty, lowerScore != previous { points.append((.nan, .nan)) }
            points.append((start, point.y))
            points.append((end, point.y))
            previous = point.threshold
        }
        return points
    }
}
