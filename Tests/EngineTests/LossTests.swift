import Foundation
import Testing
@testable import Engine

/// Loss kernels: gradients against finite differences with some rows masked out, exact values
/// against hand computation, stability at extreme logits, and the empty mask.
struct LossTests {
    enum Kind: String, CaseIterable {
        case binary, multilabel, softmax, boundedSquared, boundedAbsolute, squared, absolute, huber
    }

    /// A plan: logits (with gradient) → the loss, with targets and a mask the test fills.
    struct LossPlan {
        let plan: Plan
        let logits: Tensor, targets: Tensor, mask: Tensor
        var loss: any LossOp { plan.losses[0] }
    }

    static func makePlan(_ kind: Kind, batch: Int, weight: Float = 1) -> LossPlan {
        let b = PlanBuilder(maxBatch: batch)
        let width = kind == .softmax ? 4 : kind == .multilabel ? 3 : 1
        let logits = b.tensor([width])
        let targets = b.input([kind == .softmax ? 1 : width])
        let mask = b.input([kind == .softmax ? 1 : width])
        switch kind {
        case .binary, .multilabel: _ = b.binaryCrossEntropy(logits: logits, targets: targets, mask: mask, weight: weight)
        case .softmax: _ = b.softmaxCrossEntropy(logits: logits, targets: targets, mask: mask, weight: weight)
        case .boundedSquared:
            _ = b.boundedRegressionLoss(logits: logits, targets: targets, mask: mask, distance: .squared, weight: weight)
        case .boundedAbsolute:
            _ = b.boundedRegressionLoss(logits: logits, targets: targets, mask: mask, distance: .absolute, weight: weight)
        case .squared: _ = b.regressionLoss(logits: logits, targets: targets, mask: mask, distance: .squared, weight: weight)
        case .absolute: _ = b.regressionLoss(logits: logits, targets: targets, mask: mask, distance: .absolute, weight: weight)
        case .huber:
            _ = b.regressionLoss(logits: logits, targets: targets, mask: mask, distance: .huber(delta: 1), weight: weight)
        }
        return LossPlan(plan: b.build(seed: 1), logits: logits, targets: targets, mask: mask)
    }

    static func fillTargetsAndMask(_ p: LossPlan, _ kind: Kind, batch: Int, keep: (Int) -> Bool) {
        var random = Random(seed: 5)
        for i in 0..<(batch * p.targets.sampleSize) {
            switch kind {
            case .binary, .multilabel: p.targets.data[i] = random.uniform() < 0.5 ? 0 : 1
            case .softmax: p.targets.data[i] = Float(Int(random.uniform() * 4))
            case .boundedSquared, .boundedAbsolute: p.targets.data[i] = random.uniform()
            case .squared, .absolute, .huber: p.targets.data[i] = random.uniform() * 6 - 3
            }
            p.mask.data[i] = keep(i) ? 1 : 0
        }
    }

    @Test(arguments: Kind.allCases)
    func gradientsWithMaskedRows(_ kind: Kind) {
        let batch = 6
        let p = Self.makePlan(kind, batch: batch, weight: 1.5)
        Self.fillTargetsAndMask(p, kind, batch: batch) { $0 % 3 != 1 }
        var random = Random(seed: 9)
        for i in 0..<(batch * p.logits.sampleSize) { p.logits.data[i] = random.uniform() * 6 - 3 }
        p.plan.forward(batch: batch, mode: .training)
        p.plan.backward(batch: batch)
        let h: Float = 1e-3
        var worst = 0.0
        for i in 0..<(batch * p.logits.sampleSize) {
            let analytic = Double(p.logits.grad![i])
            let saved = p.logits.data[i]
            p.logits.data[i] = saved + h
            p.plan.forward(batch: batch, mode: .training)
            let up = Double(p.plan.totalLoss)
            p.logits.data[i] = saved - h
            p.plan.forward(batch: batch, mode: .training)
            let down = Double(p.plan.totalLoss)
            p.logits.data[i] = saved
            let numeric = (up - down) / (2 * Double(h))
            worst = max(worst, abs(analytic - numeric) / (abs(analytic) + abs(numeric) + 0.01))
            // Rows the mask drops get exactly no gradient.
            let row = kind == .softmax ? i / p.logits.sampleSize : i
            if p.mask.data[row] == 0 { #expect(analytic == 0) }
        }
        // Float32 losses near 1 with h = 1e-3: rounding contributes about 1e-4 (see OpGradientTests).
        #expect(worst < 1e-2, "\(kind): worst relative error \(worst)")
        let kept = (0..<(batch * p.mask.sampleSize)).filter { p.mask.data[$0] != 0 }.count
        #expect(p.loss.count == kept)
    }

    @Test(arguments: Kind.allCases)
    func noRowKeptGivesZeroLossAndZeroGradient(_ kind: Kind) {
        let p = Self.makePlan(kind, batch: 3)
        Self.fillTargetsAndMask(p, kind, batch: 3) { _ in false }
        p.plan.forward(batch: 3, mode: .training)
        p.plan.backward(batch: 3)
        #expect(p.loss.loss == 0 && p.loss.count == 0)
        #expect(p.logits.gradients(batch: 3)!.allSatisfy { $0 == 0 })
    }

    @Test func binaryCrossEntropyMatchesHandComputation() {
        let p = Self.makePlan(.binary, batch: 3)
        let z: [Float] = [2, -1, 0.5], y: [Float] = [1, 0, 0], m: [Float] = [1, 1, 0]
        for i in 0..<3 { (p.logits.data[i], p.targets.data[i], p.mask.data[i]) = (z[i], y[i], m[i]) }
        p.plan.forward(batch: 3, mode: .training)
        // −log σ(2) and −log(1 − σ(−1)), averaged over the two kept rows.
        let expected = (-log(1 / (1 + exp(-2.0))) - log(1 - 1 / (1 + exp(1.0)))) / 2
        #expect(abs(Double(p.loss.loss) - expected) < 1e-6)
        p.plan.backward(batch: 3)
        #expect(abs(Double(p.logits.grad![0]) - (1 / (1 + exp(-2.0)) - 1) / 2) < 1e-6)
    }

    @Test func softmaxCrossEntropyMatchesHandComputation() {
        let p = Self.makePlan(.softmax, batch: 1)
        let z: [Float] = [1, 2, 3, 4]
        for j in 0..<4 { p.logits.data[j] = z[j] }
        p.targets.data[0] = 2
        p.mask.data[0] = 1
        p.plan.forward(batch: 1, mode: .training)
        let lse = log(z.map { exp(Double($0)) }.reduce(0, +))
        #expect(abs(Double(p.loss.loss) - (lse - 3)) < 1e-6)
    }

    @Test func regressionLossesMatchHandComputation() {
        let cases: [(Kind, Float)] = [(.squared, 2.25), (.absolute, 1.5), (.huber, 1.0), (.boundedSquared, 0.0625),
                                      (.boundedAbsolute, 0.25)]
        for (kind, expected) in cases {
            let p = Self.makePlan(kind, batch: 1)
            let bounded = kind == .boundedSquared || kind == .boundedAbsolute
            // Plain: z = 1, y = −0.5. Bounded: σ(0) = 0.5 against 0.25.
            (p.logits.data[0], p.targets.data[0], p.mask.data[0]) = bounded ? (0, 0.25, 1) : (1, -0.5, 1)
            p.plan.forward(batch: 1, mode: .training)
            #expect(abs(p.loss.loss - expected) < 1e-6, "\(kind)")
        }
    }

    @Test func uncertaintyWeightingAgainstFiniteDifferences() {
        let report = checkGradients(batch: 4, inputs: [[3]]) { b, x in
            let y1 = b.input([1]), y2 = b.input([2]), m1 = b.input([1]), m2 = b.input([2])
            for i in 0..<4 { (y1.data[i], m1.data[i]) = (Float(i % 2), i == 2 ? 0 : 1) }
            for i in 0..<8 { (y2.data[i], m2.data[i]) = (Float(i) / 8, 1) }
            let first = b.binaryCrossEntropy(logits: b.dense(x[0], units: 1, name: "a"), targets: y1, mask: m1, weight: 2)
            let second = b.regressionLoss(logits: b.dense(x[0], units: 2, name: "b"), targets: y2, mask: m2,
                                          distance: .squared)
            b.uncertaintyWeighting([first, second], name: "s")
        }
        // The log-variances start at 0; the check covers them and every weight under them.
        #expect(report.worst < OpGradientTests.tolerance, "\(report)")
    }

    @Test func uncertaintyWeightingScalesEachLoss() {
        let b = PlanBuilder(maxBatch: 1)
        let z = b.tensor([1]), y = b.input([1]), m = b.input([1])
        (z.data[0], y.data[0], m.data[0]) = (1, -0.5, 1)
        let loss = b.regressionLoss(logits: z, targets: y, mask: m, distance: .squared, weight: 3)
        b.uncertaintyWeighting([loss], name: "s")
        let plan = b.build(seed: 1)
        plan.parameters[0].value[0] = 0.5
        plan.forward(batch: 1, mode: .training)
        // L = 1.5² = 2.25; total = 3·e^(−0.5)·2.25 + 0.5.
        #expect(abs(Double(plan.totalLoss) - (3 * exp(-0.5) * 2.25 + 0.5)) < 1e-5)
        plan.backward(batch: 1)
        #expect(abs(Double(plan.parameters[0].grad[0]) - (1 - 3 * exp(-0.5) * 2.25)) < 1e-5)
    }

    @Test(arguments: Kind.allCases)
    func extremeLogitsStayFinite(_ kind: Kind) {
        let p = Self.makePlan(kind, batch: 4)
        Self.fillTargetsAndMask(p, kind, batch: 4) { _ in true }
        for i in 0..<(4 * p.logits.sampleSize) { p.logits.data[i] = i % 2 == 0 ? 1e4 : -1e4 }
        p.plan.forward(batch: 4, mode: .training)
        p.plan.backward(batch: 4)
        #expect(p.loss.loss.isFinite)
        #expect(p.logits.gradients(batch: 4)!.allSatisfy { $0.isFinite })
    }

    /// Each sample's own loss, weighted by its kept elements, sums to the batch loss; a sample
    /// with nothing kept has none (NaN).
    @Test(arguments: Kind.allCases)
    func sampleLossesAddUpToTheBatchLoss(_ kind: Kind) {
        let batch = 6
        let p = Self.makePlan(kind, batch: batch)
        // Sample 2 keeps nothing; in multilabel, sample 4 keeps one of its three labels.
        Self.fillTargetsAndMask(p, kind, batch: batch) { i in
            let size = p.mask.sampleSize
            return i / size != 2 && !(i / size == 4 && i % size != 0)
        }
        var random = Random(seed: 3)
        for i in 0..<(batch * p.logits.sampleSize) { p.logits.data[i] = random.uniform() * 6 - 3 }
        p.plan.forward(batch: batch, mode: .evaluation)
        var losses = [Float](repeating: 0, count: batch)
        p.loss.sampleLosses(batch: batch, into: &losses)
        #expect(losses[2].isNaN)
        var sum = 0.0
        for b in 0..<batch where b != 2 {
            let kept = (0..<p.mask.sampleSize).filter { p.mask.data[b * p.mask.sampleSize + $0] != 0 }.count
            sum += Double(losses[b]) * Double(kept)
        }
        #expect(abs(sum / Double(p.loss.count) - Double(p.loss.loss)) < 1e-5)
    }
}
