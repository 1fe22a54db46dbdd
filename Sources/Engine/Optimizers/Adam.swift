import Foundation

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), as PyTorch defines them:
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − η · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ),
/// v̂ = v/(1−β₂ᵗ). Weight decay λ: Adam adds λ·w to g (L2); AdamW first shrinks w ← w − ηλ·w.
public final class Adam: Optimizer {
    let plan: Plan
    let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    let decoupled: Bool
    let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    public private(set) var steps = 0

    /// `decoupled: true` is AdamW.
    public init(plan: Plan, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decoupled: Bool = false) {
        self.plan = plan
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = plan.arena.floats(plan.parameterCount)
        v = plan.arena.floats(plan.parameterCount)
    }

    public func step(learningRate: Float) {
        steps += 1
        let w = plan.values, g = plan.gradients, m = self.m, v = self.v
        let (b1, b2, eps, decay, decoupled) = (beta1, beta2, epsilon, weightDecay, decoupled)
        let correction1 = 1 - Float(pow(Double(b1), Double(steps)))
        let correction2 = 1 - Float(pow(Double(b2), Double(steps)))
        plan.forEachTrainable(learningRate: learningRate) { offset, count, rate in
            for i in offset..<(offset + count) {
                var grad = g[i]
                if decoupled { w[i] -= rate * decay * w[i] } else { grad += decay * w[i] }
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                w[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
            }
        }
    }
}
