import Engine
import Testing
@testable import Tasks

/// ROC, precision–recall and metric-by-threshold curves against hand computation on an example
/// with ties, and the ROC area against the Mann–Whitney statistic on random data.
struct BinaryCurvesTests {
    // Scores with labels, highest first: 0.9 +, 0.8 + −, 0.6 + − −, 0.3 +, 0.1 −. Four of each.
    let scores: [Float] = [0.6, 0.1, 0.8, 0.9, 0.6, 0.3, 0.8, 0.6]
    let labels: [Float] = [1, 0, 0, 1, 0, 1, 1, 0]

    @Test func rocByHand() {
        // From the top, (TP, FP) after each distinct score: 0.9 → 1,0; 0.8 → 2,1; 0.6 → 3,3;
        // 0.3 → 4,3; 0.1 → 4,4. Ties move together: 0.8 goes from (0, 0.25) to (0.25, 0.5).
        let expected = [CurvePoint(x: 0, y: 0, threshold: Float(0.9).nextUp),
                        CurvePoint(x: 0, y: 0.25, threshold: 0.9), CurvePoint(x: 0.25, y: 0.5, threshold: 0.8),
                        CurvePoint(x: 0.75, y: 0.75, threshold: 0.6), CurvePoint(x: 0.75, y: 1, threshold: 0.3),
                        CurvePoint(x: 1, y: 1, threshold: 0.1)]
        #expect(BinaryCurves.roc(scores: scores, labels: labels) == expected)
    }

    @Test func precisionRecallAsScikitLearn() {
        // precision_recall_curve(labels, scores) for this example, worked through sklearn's code:
        // _binary_clf_curve gives tps [1 2 3 4 4], fps [0 1 3 3 4] at thresholds [.9 .8 .6 .3 .1];
        // precision tps/(tps+fps) = [1 2/3 1/2 4/7 1/2], recall tps/4; reversed, then (1, 0)
        // appended:
        //   precision  [0.5, 4/7, 0.5, 2/3, 1, 1]
        //   recall     [1, 1, 0.75, 0.5, 0.25, 0]
        //   thresholds [0.1, 0.3, 0.6, 0.8, 0.9]
        let curve = BinaryCurves.precisionRecall(scores: scores, labels: labels)
        let precision = [0.5, 4.0 / 7, 0.5, 2.0 / 3, 1, 1], recall = [1, 1, 0.75, 0.5, 0.25, 0.0]
        let thresholds: [Float] = [0.1, 0.3, 0.6, 0.8, 0.9, Float(0.9).nextUp]
        #expect(curve.count == 6)
        for (i, point) in curve.enumerated() {
            // Each value is one division of small counts: exact to the last bit.
            #expect(point.y == precision[i], "precision at \(i): expected \(precision[i]), got \(point.y)")
            #expect(point.x == recall[i], "recall at \(i): expected \(recall[i]), got \(point.x)")
            #expect(point.threshold == thresholds[i])
        }
    }

    @Test func metricByThresholdByHand() {
        // Ascending thresholds: F1 at 0.1 (p 1/2, r 1) 2/3; 0.3 (4/7, 1) 8/11; 0.6 (1/2, 3/4) 3/5;
        // 0.8 (2/3, 1/2) 4/7; 0.9 (1, 1/4) 2/5; above all 0.
        let f1 = BinaryCurves.metricByThreshold(scores: scores, labels: labels, objective: .f1)
        let expected = [2.0 / 3, 8.0 / 11, 0.6, 4.0 / 7, 0.4, 0]
        #expect(f1.map(\.threshold) == [0.1, 0.3, 0.6, 0.8, 0.9, Float(0.9).nextUp])
        #expect(f1.map(\.x) == f1.map { Double($0.threshold) })
        for (point, value) in zip(f1, expected) {
            // A few float operations on small counts: well within 1e-12.
            #expect(abs(point.y - value) < 1e-12, "F1 at \(point.threshold): expected \(value), got \(point.y)")
        }
        // Precision ≥ 0.6 holds only at 0.8 (2/3) and 0.9 (1), with recall 1/2 and 1/4; above
        // every score nothing is predicted and the constraint is undefined.
        let recall = BinaryCurves.metricByThreshold(scores: scores, labels: labels, objective: .recallAtPrecision(0.6))
        #expect(recall == [CurvePoint(x: Double(Float(0.8)), y: 0.5, threshold: 0.8),
                           CurvePoint(x: Double(Float(0.9)), y: 0.25, threshold: 0.9)])
    }

    @Test(arguments: [BestThreshold.Objective.f1, .accuracy, .youden, .precisionAtRecall(0.5)])
    func bestThresholdIsTheCurvesHighestPoint(_ objective: BestThreshold.Objective) throws {
        let (scores, labels) = Self.randomData(seed: 7, count: 400)
        let curve = BinaryCurves.metricByThreshold(scores: scores, labels: labels, objective: objective)
        let choice = try #require(BestThreshold.tune(scores: scores, labels: labels, objective: objective))
        #expect(curve.map(\.y).max() == choice.value)
        // BestThreshold may pick any threshold in a gap between scores; decoding there is decoding
        // at the lowest curve threshold at or above it.
        let equivalent = try #require(curve.filter { $0.threshold >= choice.threshold }.first)
        #expect(equivalent.y == choice.value)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func rocAreaByTrapezoidsIsTheMannWhitneyStatistic(seed: UInt64) throws {
        let (scores, labels) = Self.randomData(seed: seed, count: 1000)
        let curve = BinaryCurves.roc(scores: scores, labels: labels)
        #expect(curve.first?.x == 0 && curve.first?.y == 0)
        #expect(curve.last?.x == 1 && curve.last?.y == 1)
        var area = 0.0
        for i in 1..<curve.count {
            area += (curve[i].x - curve[i - 1].x) * (curve[i].y + curve[i - 1].y) / 2
        }
        // A trapezoid over a tie is exactly the half credit Mann–Whitney gives it; the sums
        // differ only by rounding over ~20 segments.
        let auc = try #require(BinaryMetrics.rocAUC(scores: scores, labels: labels))
        #expect(abs(area - auc) < 1e-12, "trapezoids \(area), Mann–Whitney \(auc)")
    }

    @Test func undefinedCurvesAreEmpty() {
        let scores: [Float] = [0.2, 0.7, 0.7]
        #expect(BinaryCurves.roc(scores: scores, labels: [1, 1, 1]).isEmpty)
        #expect(BinaryCurves.roc(scores: scores, labels: [0, 0, 0]).isEmpty)
        #expect(BinaryCurves.precisionRecall(scores: scores, labels: [0, 0, 0]).isEmpty)
        #expect(BinaryCurves.roc(scores: [], labels: []).isEmpty)
        #expect(BinaryCurves.precisionRecall(scores: [], labels: []).isEmpty)
        #expect(BinaryCurves.metricByThreshold(scores: [], labels: [], objective: .f1).isEmpty)
        // Without negatives precision–recall is still defined: precision 1 everywhere.
        let allPositive = BinaryCurves.precisionRecall(scores: scores, labels: [1, 1, 1])
        #expect(allPositive.map(\.y) == [1, 1, 1])
        #expect(allPositive.map(\.x) == [1, 2.0 / 3, 0])
    }

    @Test func nanScoresAreNeverPredictedPositive() {
        // The NaN row is a positive that no threshold reaches: recall stops at 1/2.
        let roc = BinaryCurves.roc(scores: [0.8, .nan, 0.3], labels: [1, 1, 0])
        #expect(roc.map(\.x) == [0, 0, 1])
        #expect(roc.map(\.y) == [0, 0.5, 0.5])
    }

    /// Scores on a grid of 21 values (many ties), positive with probability equal to the score.
    static func randomData(seed: UInt64, count: Int) -> (scores: [Float], labels: [Float]) {
        var random = Random(seed: seed)
        var scores: [Float] = [], labels: [Float] = []
        for _ in 0..<count {
            let score = Float(Int(random.uniform() * 21)) / 20
            scores.append(score)
            labels.append(random.uniform() < score ? 1 : 0)
        }
        return (scores, labels)
    }
}
