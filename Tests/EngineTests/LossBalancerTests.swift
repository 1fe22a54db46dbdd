import Foundation
import Testing
@testable import Engine

/// Loss balancers on the problem they exist for: two tasks share a layer, and one task's loss is
/// 1000 times larger than the other's.
struct LossBalancerTests {
    enum Weighting: String, CaseIterable { case fixed, uncertainty, dwa, gradnorm }

    /// x ∈ R¹⁶ standard normal; a shared linear layer of width 2, which must turn from its
    /// random start towards x₀ for task a and x₁ for task b; task a: y = x₀; task b:
    /// y = √1000 · (x₁ + ε) with ε standard normal noise (squared loss: 1000 times task a's, and
    /// half of it beyond reach). Adam. Each task's loss at the end on fresh rows over its labels'
    /// variance: 1 is learned nothing; b's best is 0.5.
    static func train(_ weighting: Weighting, steps: Int = 1000) -> (a: Float, b: Float) {
        let batch = 32, stepsPerEpoch = 50, features = 16
        let b = PlanBuilder(maxBatch: batch)
        let x = b.input([features])
        let shared = b.dense(x, units: 2, name: "shared")
        let ya = b.input([1]), yb = b.input([1]), ma = b.input([1]), mb = b.input([1])
        let taps = weighting == .gradnorm ? b.gradientTaps(shared, count: 2) : [shared, shared]
        let la = b.regressionLoss(logits: b.dense(taps[0], units: 1, name: "a"), targets: ya, mask: ma, distance: .squared)
        let lb = b.regressionLoss(logits: b.dense(taps[1], units: 1, name: "b"), targets: yb, mask: mb, distance: .squared)
        switch weighting {
        case .fixed: break
        case .uncertainty: b.uncertaintyWeighting([la, lb], name: "s")
        case .dwa: b.dynamicWeightAverage([la, lb], temperature: 2, name: "dwa")
        case .gradnorm: b.gradNorm([la, lb], taps: taps, alpha: 1.5, rate: 0.025, name: "gradnorm")
        }
        let plan = b.build(seed: 2)
        var random = Random(seed: 11)
        func fill() {
            for n in 0..<batch {
                for f in 0..<features { x.data[features * n + f] = random.normal() }
                let (x0, x1) = (x.data[features * n], x.data[features * n + 1])
                (ya.data[n], yb.data[n]) = (x0, Float(1000).squareRoot() * (x1 + random.normal()))
                (ma.data[n], mb.data[n]) = (1, 1)
            }
        }
        let adam = Adam(plan: plan)
        for step in 1...steps {
            fill()
            plan.forward(batch: batch, mode: .training)
            plan.backward(batch: batch)
            adam.step(learningRate: 0.01)
            if step % stepsPerEpoch == 0 { plan.endEpoch() }
        }
        var sums: (a: Float, b: Float) = (0, 0)
        for _ in 0..<40 {
            fill()
            plan.forward(batch: batch, mode: .evaluation)
            sums = (sums.a + la.loss, sums.b + lb.loss)
        }
        return (sums.a / 40, sums.b / 40 / 2000)
    }

    /// Without a balancer, task b's gradient (and its noise) takes the shared layer and task a
    /// stays where it started.
    @Test func fixedWeightsLetTheLargeLossTakeTheSharedLayer() {
        let result = Self.train(.fixed)
        #expect(result.a > 0.5, "\(result)")
    }

    @Test(arguments: [Weighting.dwa, .gradnorm])
    func balancerKeepsBothTasksLearning(_ weighting: Weighting) {
        let result = Self.train(weighting)
        #expect(result.a < 0.05 && result.b < 0.6, "\(weighting): \(result)")
    }

    /// Two losses whose values the test sets: a squared loss on one logit with target 0 and
    /// mask 1 is z².
    static func twoLosses(_ b: PlanBuilder, weights: (Float, Float) = (1, 1))
        -> (z: [Tensor], losses: [any MaskedLoss], taps: [Tensor]) {
        let x = b.input([1])
        x.data[0] = 1
        let taps = b.gradientTaps(b.dense(x, units: 2, name: "shared"), count: 2)
        var z: [Tensor] = [], losses: [any MaskedLoss] = []
        for (k, weight) in [weights.0, weights.1].enumerated() {
            let logits = b.dense(taps[k], units: 1, name: "head\(k)")
            let y = b.input([1]), m = b.input([1])
            m.data[0] = 1
            z.append(logits)
            losses.append(b.regressionLoss(logits: logits, targets: y, mask: m, distance: .squared, weight: weight))
        }
        return (z, losses, taps)
    }

    /// λ from the epoch means, the scale from the first epoch: the formula by hand.
    @Test func dynamicWeightAverageByHand() throws {
        let b = PlanBuilder(maxBatch: 1)
        let x = b.input([1])
        var losses: [any MaskedLoss] = []
        for (k, weight) in [Float(1), 3].enumerated() {
            let y = b.input([1]), m = b.input([1])
            m.data[0] = 1
            losses.append(b.regressionLoss(logits: b.dense(x, units: 1, name: "h\(k)"), targets: y, mask: m,
                                           distance: .squared, weight: weight))
        }
        b.dynamicWeightAverage(losses, temperature: 2, name: "dwa")
        let plan = b.build(seed: 1)
        let op = try #require(plan.ops.last as? DynamicWeightAverageOp)
        // The input is 0 and the targets 0, so each loss is its head's bias squared.
        let biases = try ["h0.bias", "h1.bias"].map { name in try #require(plan.parameters.first { $0.name == name }) }
        func run(_ a: Float, _ c: Float) {
            (biases[0].value[0], biases[1].value[0]) = (a.squareRoot(), c.squareRoot())
            plan.forward(batch: 1, mode: .training)
        }
        // Epoch 1: normalised by the running mean; λ = 1.
        run(4, 100)
        #expect(abs(losses[0].weight - 1 / 4) < 1e-6 && abs(losses[1].weight - 3 / 100) < 1e-6)
        run(2, 50)  // running means 3 and 75
        #expect(abs(losses[0].weight - 1 / 3) < 1e-6 && abs(losses[1].weight - 3 / 75) < 1e-6)
        plan.endEpoch()
        // Epoch 2: normalised by epoch 1's means; still λ = 1 (no two epochs to compare yet).
        run(1.5, 60)
        #expect(abs(losses[0].weight - 1 / 3) < 1e-6 && abs(losses[1].weight - 3 / 75) < 1e-6)
        plan.endEpoch()
        // Epoch 3: r = (1.5/3, 60/75) = (0.5, 0.8); λ = 2·softmax(r / 2).
        let e0 = exp(0.25), e1 = exp(0.4)
        let lambda = (2 * e0 / (e0 + e1), 2 * e1 / (e0 + e1))
        run(1, 1)
        #expect(abs(Double(op.balance(0)) - lambda.0) < 1e-6 && abs(Double(op.balance(1)) - lambda.1) < 1e-6)
        #expect(abs(Double(losses[0].weight) - lambda.0 / 3) < 1e-6)
        #expect(abs(Double(losses[1].weight) - 3 * lambda.1 / 75) < 1e-6)
        // Evaluation passes do not count towards the epoch's means.
        run(1000, 1000)
        plan.forward(batch: 1, mode: .evaluation)
        plan.endEpoch()
        // Epoch 3's means (1 and 1, plus the 1000s of the training pass above): r = (1001/2)/1.5 …
        let r = ((1001.0 / 2) / 1.5, (1001.0 / 2) / 60)
        let f0 = exp(r.0 / 2 - r.0 / 2), f1 = exp(r.1 / 2 - r.0 / 2)
        #expect(abs(Double(op.balance(0)) - 2 * f0 / (f0 + f1)) < 1e-5)
    }

    /// One GradNorm step by hand: G from the taps, r from the first losses, the μ step, the
    /// renormalisation and the floor.
    @Test func gradNormStepByHand() throws {
        let b = PlanBuilder(maxBatch: 1)
        let (_, losses, taps) = Self.twoLosses(b, weights: (2, 1))
        b.gradNorm(losses, taps: taps, alpha: 1.5, rate: 0.025, name: "gradnorm")
        let plan = b.build(seed: 3)
        let op = try #require(plan.ops.last as? GradNormOp)
        let tapOp = try #require(plan.ops.first { $0 is GradientTapOp } as? GradientTapOp)
        plan.forward(batch: 1, mode: .training)
        let first = (losses[0].loss, losses[1].loss)
        // The first losses become L(0): each weight is w · μ / L(0) with μ = 1.
        #expect(abs(losses[0].weight - 2 / first.0) < 1e-6 && abs(losses[1].weight - 1 / first.1) < 1e-6)
        plan.backward(batch: 1)
        // Each tap holds ∂(w·μ·L/L0)/∂h: head weight · 2z · w / L0 per unit.
        let heads = try (0..<2).map { k in try #require(plan.parameters.first { $0.name == "head\(k).weight" }) }
        var norms: [Float] = []
        for k in 0..<2 {
            let z = (k == 0 ? sqrt(first.0) : sqrt(first.1))  // |z|: the sign does not change the norm
            let scale = 2 * z * (k == 0 ? 2 / first.0 : 1 / first.1)
            let n = sqrt((0..<2).reduce(Float(0)) { $0 + pow(heads[k].value[$1] * scale, 2) })
            norms.append(n)
            #expect(abs(tapOp.squares[k].squareRoot() - n) / n < 1e-4)
        }
        // First step: r = 1 for both, so target = mean G; each μ moves by exp(∓η·G/mean G).
        let g = (norms[0] / 2, norms[1] / 1), mean = (g.0 + g.1) / 2
        var mu = [Float(1), 1]
        for (k, gk) in [g.0, g.1].enumerated() {
            mu[k] *= exp(-0.025 * (gk > mean ? 1 : -1) * gk / mean)
        }
        let total = mu[0] + mu[1]
        mu = mu.map { max($0 * 2 / total, 0.1) }
        #expect(abs(op.balance(0) - mu[0]) < 1e-5 && abs(op.balance(1) - mu[1]) < 1e-5)
    }
}
