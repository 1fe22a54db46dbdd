import Testing
@testable import Engine

/// Optimiser steps against values computed by hand (PyTorch's definitions; the Adam figures
/// were worked out in double precision with the formulas in Adam.swift's comment).
struct OptimizerTests {
    /// A plan with one parameter tensor of `count` values (a dense layer's weight, no bias).
    func plan(count: Int, groups: [ParameterGroup] = []) -> Plan {
        let b = PlanBuilder(maxBatch: 1)
        let x = b.input([1])
        if let group = groups.first { b.beginGroup(group) }
        b.project(b.dense(x, units: count, bias: false, name: "w"))
        for group in groups.dropFirst() {
            b.beginGroup(group)
            b.project(b.dense(x, units: count, bias: false, name: "w\(group.name)"))
        }
        return b.build(seed: 1)
    }

    func run(_ optimizer: Optimizer, _ plan: Plan, gradients: [Float], rate: Float = 0.1) -> Float {
        plan.gradients[0] = gradients[0]
        optimizer.step(learningRate: rate)
        return plan.values[0]
    }

    /// Relative error of a float32 run of a few steps: a few ulps of the values involved.
    func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) < 1e-6 }

    @Test func adamFirstSteps() {
        for (decay, decoupled, expected) in [(Float(0), false, [0.900000002, 0.9366103542405654, 0.9502794203389762]),
                                             (0.1, false, [0.9000000016666666, 0.9252635194456061, 0.9247305742687093]),
                                             (0.1, true, [0.890000002, 0.9177103542205653, 0.9222023167767704])] {
            let p = plan(count: 1)
            p.values[0] = 1
            let adam = Adam(plan: p, weightDecay: decay, decoupled: decoupled)
            for (g, w) in zip([Float(0.5), -1, 0.25], expected) {
                let value = run(adam, p, gradients: [g])
                #expect(close(value, w), "decay \(decay) decoupled \(decoupled): \(value) vs \(w)")
            }
            #expect(adam.steps == 3)
        }
    }

    /// The optimisers notice a NaN or an infinite gradient in their own pass, wherever it is
    /// in the block, and the plan names the parameter.
    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteGradientsAreNoticed(_ bad: Float) {
        for makeOptimizer in [{ (p: Plan) -> Optimizer in Adam(plan: p) }, { (p: Plan) -> Optimizer in SGD(plan: p, momentum: 0.9) }] {
            let plan = plan(count: 40_000)  // several blocks of Adam's parallel loop
            let optimizer = makeOptimizer(plan)
            for i in 0..<plan.parameterCount { plan.gradients[i] = Float(i % 7) - 3 }
            optimizer.step(learningRate: 0.1)
            #expect(optimizer.gradientsWereFinite && plan.parameterWithNonFiniteGradient() == nil)
            plan.gradients[39_999] = bad
            optimizer.step(learningRate: 0.1)
            #expect(!optimizer.gradientsWereFinite)
            #expect(plan.parameterWithNonFiniteGradient()?.name == "w.weight")
            plan.gradients[39_999] = Float.greatestFiniteMagnitude
            optimizer.step(learningRate: 0.1)
            #expect(optimizer.gradientsWereFinite)
        }
    }

    @Test func sgdWithMomentumAndNesterov() {
        for (nesterov, expected) in [(false, [0.9, 0.71, 0.439]), (true, [0.81, 0.539, 0.1951])] {
            let p = plan(count: 1)
            p.values[0] = 1
            let sgd = SGD(plan: p, momentum: 0.9, nesterov: nesterov)
            for w in expected {
                let value = run(sgd, p, gradients: [1])
                #expect(close(value, w), "nesterov \(nesterov): \(value) vs \(w)")
            }
        }
    }

    @Test func sgdWeightDecayAddsToTheGradient() {
        let p = plan(count: 1)
        p.values[0] = 2
        // g = 1 + 0.5 · 2 = 2; w = 2 − 0.1 · 2.
        #expect(close(run(SGD(plan: p, weightDecay: 0.5), p, gradients: [1]), 1.8))
    }

    @Test func clippingScalesToTheMaximumNorm() {
        let p = plan(count: 2)
        p.gradients[0] = 3
        p.gradients[1] = 4
        #expect(GradientClipping.clip(p, maxNorm: 1) == 5)
        #expect(abs(p.gradients[0] - 0.6) < 1e-6 && abs(p.gradients[1] - 0.8) < 1e-6)
        #expect(GradientClipping.clip(p, maxNorm: 10) < 1.0001)
        #expect(abs(p.gradients[0] - 0.6) < 1e-6)  // under the maximum: untouched
    }

    /// The norm's sum of squares, block by block over the pool, against one pass over the
    /// trainable gradients (frozen ones left out): equal within a double's rounding.
    @Test func gradientSquaresEqualTheReference() {
        let p = plan(count: 20_000, groups: [ParameterGroup(name: "trained"), ParameterGroup(name: "frozen", frozen: true)])
        var random = Random(seed: 3)
        for i in 0..<p.parameterCount { p.gradients[i] = Float(Int(random.next() % 2001) - 1000) / 7 }
        let reference = GradientClipping.sumOfSquaresReference(p)
        #expect(p.trainableCount == 20_000 && p.parameterCount == 40_000)
        #expect(abs(p.gradientSquares.sum() - reference) <= 1e-12 * reference)
    }

    @Test func frozenGroupsAreNotUpdatedAndScalesApply() {
        let p = plan(count: 1, groups: [ParameterGroup(name: "frozen", frozen: true),
                                        ParameterGroup(name: "slow", learningRateScale: 0.5)])
        // Declared frozen first, placed last: the optimiser keeps state for the trainable prefix.
        #expect(p.parameters.map(\.frozen) == [false, true])
        #expect(p.trainableCount == 1)
        let (slow, frozen) = (p.parameters[0], p.parameters[1])
        let before = frozen.value[0]
        slow.value[0] = 1
        frozen.grad[0] = 1
        slow.grad[0] = 1
        SGD(plan: p).step(learningRate: 0.1)
        #expect(frozen.value[0] == before)
        #expect(close(slow.value[0], 0.95))
    }

    @Test func frozenParametersGetNoGradient() {
        let b = PlanBuilder(maxBatch: 2)
        let x = b.input([3])
        b.beginGroup(ParameterGroup(name: "trunk", frozen: true))
        let h = b.dense(x, units: 4, name: "trunk")
        b.beginGroup(ParameterGroup(name: "heads"))
        b.project(b.dense(h, units: 2, name: "head"))
        let p = b.build(seed: 1)
        for i in 0..<6 { x.data[i] = Float(i) }
        p.forward(batch: 2, mode: .training)
        p.backward(batch: 2)
        #expect(p.parameters.filter(\.frozen).allSatisfy { q in (0..<q.count).allSatisfy { q.grad[$0] == 0 } })
        #expect(p.parameters.filter { !$0.frozen }.contains { q in (0..<q.count).contains { q.grad[$0] != 0 } })
    }

    @Test func schedules() {
        let warm = LearningRateSchedule(base: 1, shape: .cosine(minimumFactor: 0), warmupEpochs: 2, epochs: 10)
        #expect(warm.rate(epoch: 0, step: 0, stepsPerEpoch: 4) == 0.125)
        #expect(warm.rate(epoch: 1, step: 3, stepsPerEpoch: 4) == 1)
        #expect(warm.rate(epoch: 2, step: 0, stepsPerEpoch: 4) == 1)
        #expect(abs(warm.rate(epoch: 6, step: 0, stepsPerEpoch: 4) - 0.5) < 1e-6)
        let step = LearningRateSchedule(base: 1, shape: .step(stepSize: 3, gamma: 0.5), epochs: 10)
        #expect([0, 2, 3, 5, 6].map { step.rate(epoch: $0, step: 1, stepsPerEpoch: 4) } == [1, 1, 0.5, 0.5, 0.25])
        let constant = LearningRateSchedule(base: 0.01, epochs: 3)
        #expect(constant.rate(epoch: 2, step: 7, stepsPerEpoch: 8) == 0.01)
        // 2 warm-up epochs, then 10 of which the last 2 (a fifth) decay linearly to 0.
        let cooldown = LearningRateSchedule(base: 1, shape: .cooldown(fraction: 0.2), warmupEpochs: 2, epochs: 12)
        #expect(cooldown.rate(epoch: 1, step: 1, stepsPerEpoch: 4) == 0.75)
        #expect([2, 5, 9, 10].map { cooldown.rate(epoch: $0, step: 0, stepsPerEpoch: 4) } == [1, 1, 1, 1])
        #expect(cooldown.rate(epoch: 10, step: 2, stepsPerEpoch: 4) == 0.75)
        #expect(cooldown.rate(epoch: 11, step: 0, stepsPerEpoch: 4) == 0.5)
        #expect(cooldown.rate(epoch: 11, step: 3, stepsPerEpoch: 4) == 0.125)
    }
}
