import Testing
@testable import Tasks

/// The exact sweep against hand computation, and against decoding with the chosen threshold.
struct BestThresholdTests {
    // Scores with labels: 0.9 +, 0.8 −, 0.7 +, 0.6 +, 0.4 −, 0.3 +, 0.2 −.
    let scores: [Float] = [0.3, 0.9, 0.2, 0.6, 0.8, 0.4, 0.7]
    let labels: [Float] = [1, 1, 0, 1, 0, 0, 1]

    @Test func f1() {
        // Thresholds from the top: (TP,FP) 1,0 → f1 0.4; 1,1 → 0.333; 2,1 → 0.571; 3,1 → 0.75;
        // 3,2 → 0.667; 4,2 → 0.8; 4,3 → 0.727. Best 0.8 at 0.3; any threshold in (0.2, 0.3]
        // decodes alike, and the middle of that gap is chosen.
        let choice = BestThreshold.tune(scores: scores, labels: labels, objective: .f1)
        #expect(choice == BestThreshold.Choice(threshold: 0.25, value: 0.8))
    }

    @Test func accuracy() {
        // Correct rows at 0.6: 3 TP + 2 TN (0.4, 0.2) = 5 of 7; at 0.3: 4 TP + 1 TN = 5 of 7. The
        // higher threshold wins the tie, in the middle of its gap (0.4, 0.6].
        let choice = BestThreshold.tune(scores: scores, labels: labels, objective: .accuracy)
        #expect(choice?.threshold == 0.5)
        #expect(abs(choice!.value - 5.0 / 7) < 1e-12)
    }

    @Test func youdenAndConstraints() {
        // Youden: at 0.6 TPR 3/4, FPR 1/3 → 0.4167; at 0.3 TPR 1, FPR 2/3 → 0.333.
        let youden = BestThreshold.tune(scores: scores, labels: labels, objective: .youden)
        #expect(youden?.threshold == 0.5)
        #expect(abs(youden!.value - (0.75 - 1.0 / 3)) < 1e-12)
        // Precision with recall ≥ 0.75: thresholds 0.6 (3/4) and 0.4 (3/5), 0.3 (4/6), 0.2 (4/7).
        let precision = BestThreshold.tune(scores: scores, labels: labels, objective: .precisionAtRecall(0.75))
        #expect(precision?.threshold == 0.5 && precision?.value == 0.75)
        // Recall with precision ≥ 0.7: 0.9 (1/1, recall 1/4), 0.6 (3/4, recall 3/4). Best 0.75 at 0.6.
        let recall = BestThreshold.tune(scores: scores, labels: labels, objective: .recallAtPrecision(0.7))
        #expect(recall?.threshold == 0.5 && recall?.value == 0.75)
        #expect(BestThreshold.tune(scores: scores, labels: labels, objective: .recallAtPrecision(1.01)) == nil)
    }

    static let objectives: [BestThreshold.Objective] = [.f1, .accuracy, .youden, .precisionAtRecall(0.8),
                                                        .recallAtPrecision(0.7)]

    /// The sweep against brute force: on seeded random data with many ties, decode at every
    /// candidate threshold (each distinct score, and one above them all); the sweep must find the
    /// best value, decoding at its threshold must reproduce it, and the threshold must lie in the
    /// gap of the highest candidate that reaches it (between it and the next lower score).
    @Test(arguments: objectives)
    func sweepEqualsBruteForceOverEveryCandidate(_ objective: BestThreshold.Objective) {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Double {  // splitmix64, so the test sees the same data every run
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        for trial in 0..<40 {
            let n = 1 + trial * 7
            let grid = [4, 10, 50][trial % 3]  // coarse grids: many tied scores
            let scores = (0..<n).map { _ in Float(Int(next() * Double(grid + 1))) / Float(grid) }
            let labels = scores.map { next() < Double($0) * 0.8 + 0.1 ? Float(1) : 0 }
            let candidates = Set(scores).sorted(by: >).reduce(into: [scores.max()!.nextUp]) { $0.append($1) }
            var best: (threshold: Float, value: Double)?
            for t in candidates {  // from the top: the first to reach a value keeps it
                if let v = BestThreshold.value(scores: scores, labels: labels, threshold: t, objective: objective),
                   v > (best?.value ?? -.infinity) {
                    best = (t, v)
                }
            }
            let choice = BestThreshold.tune(scores: scores, labels: labels, objective: objective)
            #expect(choice?.value == best?.value, "trial \(trial)")
            if let choice, let best {
                #expect(BestThreshold.value(scores: scores, labels: labels, threshold: choice.threshold,
                                            objective: objective) == choice.value, "trial \(trial)")
                // Never on a tuning score; above every lower candidate that is not on the plateau.
                #expect(!scores.contains(choice.threshold), "trial \(trial)")
                let lower = candidates.filter { $0 < best.threshold }
                if let firstWorse = lower.first(where: {
                    BestThreshold.value(scores: scores, labels: labels, threshold: $0, objective: objective) != best.value
                }) {
                    #expect(choice.threshold > firstWorse, "trial \(trial)")
                }
            }
        }
    }

    /// A diverged model's NaN scores never reach a threshold: they count as predicted negative.
    @Test func nanScoresStayNegative() {
        let choice = BestThreshold.tune(scores: [0.9, .nan, 0.2, .nan], labels: [1, 1, 0, 0], objective: .accuracy)
        // At any threshold in (0.2, 0.9]: TP 1, TN 2 (0.2 and one NaN), FN 1 (the other NaN).
        #expect(choice?.value == 0.75)
        #expect(choice.map { $0.threshold > 0.2 && $0.threshold <= 0.9 } == true)
        #expect(BestThreshold.tune(scores: [.nan], labels: [1], objective: .f1) == nil)
    }

    /// When every row is best predicted positive (or none is), the threshold is the middle of
    /// the range down to 0 (up to 1), not the lowest (highest) tuning score.
    @Test func edgesOfTheScoreRange() {
        let allPositive = BestThreshold.tune(scores: [0.6, 0.8], labels: [1, 1], objective: .f1)
        #expect(allPositive == BestThreshold.Choice(threshold: 0.3, value: 1))  // (0, 0.6]
        let nonePositive = BestThreshold.tune(scores: [0.2, 0.4], labels: [0, 0], objective: .accuracy)
        #expect(nonePositive == BestThreshold.Choice(threshold: 0.7, value: 1))  // (0.4, 1]
    }

    @Test func objectivesReadAndWriteTheirNames() {
        for objective in Self.objectives { #expect(BestThreshold.Objective(objective.name) == objective) }
        #expect(BestThreshold.Objective("precision@1.5") == nil)
        #expect(BestThreshold.Objective("f2") == nil)
    }
}
