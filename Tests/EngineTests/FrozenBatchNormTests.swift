import Testing
@testable import Engine

/// A batchnorm layer in a frozen group evaluates even in a training pass: it normalises with its
/// running statistics and leaves them as they are, while a trainable one updates them.
struct FrozenBatchNormTests {
    static func plan(frozen: Bool) -> (plan: Plan, input: Tensor, output: Tensor) {
        let builder = PlanBuilder(maxBatch: 4)
        let x = builder.input([3])
        builder.beginGroup(ParameterGroup(name: "trunk", frozen: frozen))
        let y = builder.batchNorm(x, name: "bn")
        builder.beginGroup(ParameterGroup(name: "default"))
        return (builder.build(seed: 1), x, y)
    }

    @Test func aFrozenBatchnormKeepsItsRunningStatistics() {
        for frozen in [false, true] {
            let (plan, x, y) = Self.plan(frozen: frozen)
            let mean = plan.state[0].data, variance = plan.state[1].data
            for j in 0..<3 { (mean[j], variance[j]) = (Float(j), Float(j + 1)) }
            for i in 0..<12 { x.data[i] = Float(i % 5) - 1.5 }
            plan.forward(batch: 4, mode: .training)
            let kept = (0..<3).allSatisfy { mean[$0] == Float($0) && variance[$0] == Float($0 + 1) }
            #expect(kept == frozen, "frozen: \(frozen)")
            if frozen {
                // (x − running mean) / √(running var + ε), weight 1 and bias 0 as initialised.
                for i in 0..<12 {
                    let j = i % 3
                    let expected = (x.data[i] - Float(j)) / (Float(j + 1) + 1e-5).squareRoot()
                    #expect(abs(y.data[i] - expected) < 1e-6)
                }
            }
        }
    }
}
