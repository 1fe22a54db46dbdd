import Testing
@testable import Tasks

/// The exact sweep against hand computation, and against decoding with the chosen threshold.
struct ThresholdTunerTests {
    // Scores with labels: 0.9 +, 0.8 −, 0.7 +, 0.6 +, 0.4 −, 0.3 +, 0.2 −.
    let scores: [Float] = [0.3, 0.9, 0.2, 0.6, 0.8, 0.4, 0.7]
    let labels: [Float] = [1, 1, 0, 1, 0, 0, 1]

    @Test func f1() {
        // Thresholds from the top: (TP,FP) 1,0 → f1 0.4; 1,1 → 0.333; 2,1 → 0.571; 3,1 → 0.75;
        // 3,2 → 0.667; 4,2 → 0.8; 4,3 → 0.727. Best 0.8 at 0.3.
        let choice = ThresholdTuner.tune(scores: scores, labels: labels, objective: .f1)
        #expect(choice == ThresholdTuner.Choice(threshold: 0.3, value: 0.8))
    }

    @Test func accuracy() {
        // Correct rows at 0.6: 3 TP + 2 TN (0.4, 0.2) = 5 of 7; at 0.3: 4 TP + 1 TN = 5 of 7. The
        // higher threshold wins the tie.
        let choice = ThresholdTuner.tune(scores: scores, labels: labels, objective: .accuracy)
        #expect(choice?.threshold == 0.6)
        #expect(abs(choice!.value - 5.0 / 7) < 1e-12)
    }

    @Test func youdenAndConstraints() {
        // Youden: at 0.6 TPR 3/4, FPR 1/3 → 0.4167; at 0.3 TPR 1, FPR 2/3 → 0.333.
        let youden = ThresholdTuner.tune(scores: scores, labels: labels, objective: .youden)
        #expect(youden?.threshold == 0.6)
        #expect(abs(youden!.value - (0.75 - 1.0 / 3)) < 1e-12)
        // Precision with recall ≥ 0.75: thresholds 0.6 (3/4) and 0.4 (3/5), 0.3 (4/6), 0.2 (4/7).
        let precision = ThresholdTuner.tune(scores: scores, labels: labels, objective: .precisionAtRecall(0.75))
        #expect(precision?.threshold == 0.6 && precision?.value == 0.75)
        // Recall with precision ≥ 0.7: 0.9 (1/1, recall 1/4), 0.6 (3/4, recall 3/4). Best 0.75 at 0.6.
        let recall = ThresholdTuner.tune(scores: scores, labels: labels, objective: .recallAtPrecision(0.7))
        #expect(recall?.threshold == 0.6 && recall?.value == 0.75)
        #expect(ThresholdTuner.tune(scores: scores, labels: labels, objective: .recallAtPrecision(1.01)) == nil)
    }

    @Test(arguments: [ThresholdTuner.Objective.f1, .accuracy])
    func decodingWithTheThresholdReproducesTheValue(_ objective: ThresholdTuner.Objective) {
        // Many ties: scores on a coarse grid.
        var generator = SystemRandomNumberGenerator()
        let scores = (0..<500).map { _ in Float(Int.random(in: 0...20, using: &generator)) / 20 }
        let labels = scores.map { Float.random(in: 0...1, using: &generator) < $0 ? Float(1) : 0 }
        let choice = ThresholdTuner.tune(scores: scores, labels: labels, objective: objective)!
        var counts = ConfusionCounts()
        for (s, y) in zip(scores, labels) { counts.add(predicted: s >= choice.threshold, actual: y >= 0.5) }
        let decoded = objective == .f1 ? counts.f1 : counts.accuracy
        #expect(abs(decoded - choice.value) < 1e-12)
        // No threshold does better: try every grid point and one above the top.
        for t in (0...21).map({ Float($0) / 20 }) {
            var c = ConfusionCounts()
            for (s, y) in zip(scores, labels) { c.add(predicted: s >= t, actual: y >= 0.5) }
            #expect((objective == .f1 ? c.f1 : c.accuracy) <= choice.value + 1e-12)
        }
    }
}
