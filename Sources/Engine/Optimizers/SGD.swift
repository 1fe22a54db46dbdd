/// Stochastic gradient descent as PyTorch defines it: g ← g + λ·w (weight decay);
/// b ← μ·b + g (momentum, b = g at the first step); Nesterov uses g + μ·b; w ← w − η·(that).
public final class SGD: Optimizer {
    let plan: Plan
    let momentum: Float, nesterov: Bool, weightDecay: Float
    let velocity: UnsafeMutablePointer<Float>
    public var steps = 0
    public var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] { [("velocity", velocity)] }
    public private(set) var gradientsWereFinite = true

    public init(plan: Plan, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.plan = plan
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = plan.arena.floats(plan.trainableCount)
    }

    public func step(learningRate: Float) {
        let w = plan.values, g = plan.gradients, b = velocity
        let (mu, decay, nesterov) = (momentum, weightDecay, nesterov)
        var largest: UInt32 = 0
        plan.forEachTrainable(learningRate: learningRate) { offset, count, rate in
            for i in offset..<(offset + count) {
                largest = max(largest, exponentBits(g[i]))
                var d = g[i] + decay * w[i]
                if mu != 0 {
                    b[i] = mu * b[i] + d
                    d = nesterov ? d + mu * b[i] : b[i]
                }
                w[i] -= rate * d
            }
        }
        gradientsWereFinite = largest != nonFiniteExponent
        steps += 1
    }
}
