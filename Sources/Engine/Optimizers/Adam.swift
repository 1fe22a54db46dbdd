import Foundation

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter), as PyTorch defines them:
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − η · m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ),
/// v̂ = v/(1−β₂ᵗ). Weight decay λ: Adam adds λ·w to g (L2); AdamW first shrinks w ← w − ηλ·w.
///
/// The update is elementwise, so the parameter block is split into fixed blocks spread over
/// the engine's pool: the same numbers at any thread count.
public final class Adam: Optimizer, ParallelLoop {
    let plan: Plan
    let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    let decoupled: Bool
    let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    public var steps = 0
    public var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] { [("m", m), ("v", v)] }
    public var gradientsWereFinite: Bool {
        (0..<plan.pool.threads).allSatisfy { largestExponent[$0] != nonFiniteExponent }
    }
    /// Per worker, the largest `exponentBits` of the gradients it read in the last step.
    private let largestExponent: UnsafeMutablePointer<UInt32>
    private var learningRate: Float = 0, correction1: Float = 1, correction2: Float = 1
    /// Values per item the pool hands out: small enough that two threads get nearly equal
    /// shares of a hundred thousand values (blocks of 16,384 split the orders flow's 7 as 3
    /// and 4).
    private static let block = 2_048

    /// `decoupled: true` is AdamW.
    public init(plan: Plan, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decoupled: Bool = false) {
        self.plan = plan
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = plan.arena.floats(plan.trainableCount)
        v = plan.arena.floats(plan.trainableCount)
        largestExponent = .allocate(capacity: plan.pool.threads)
        largestExponent.initialize(repeating: 0, count: plan.pool.threads)
    }

    deinit { largestExponent.deallocate() }

    public func step(learningRate: Float) {
        steps += 1
        self.learningRate = learningRate
        correction1 = 1 - Float(pow(Double(beta1), Double(steps)))
        correction2 = 1 - Float(pow(Double(beta2), Double(steps)))
        let blocks = (plan.trainableCount + Self.block - 1) / Self.block
        largestExponent.update(repeating: 0, count: plan.pool.threads)
        plan.pool.parallelFor(blocks, costPerItem: Self.block * 8, self)
    }

    /// The update over a range of blocks of the parameter block, parameter by parameter.
    public func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        let start = items.lowerBound * Self.block, end = min(items.upperBound * Self.block, plan.trainableCount)
        for parameter in plan.parameters where !parameter.frozen {
            let from = max(start, parameter.offset), to = min(end, parameter.offset + parameter.count)
            guard from < to else { continue }
            let rate = learningRate * plan.groups[parameter.group].learningRateScale
            let exponent = adamUpdate(plan.values + from, plan.gradients + from, m + from, v + from, to - from,
                                      rate: rate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                                      decoupled: decoupled, correction1: correction1, correction2: correction2)
            largestExponent[worker] = max(largestExponent[worker], exponent)
        }
    }
}

/// One Adam update of `count` values; a plain loop over four arrays that the compiler
/// vectorises. Returns the largest `exponentBits` of the gradients.
func adamUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                _ v: UnsafeMutablePointer<Float>, _ count: Int, rate: Float, beta1: Float, beta2: Float,
                epsilon: Float, weightDecay: Float, decoupled: Bool, correction1: Float,
                correction2: Float) -> UInt32 {
    // Folding the corrections: w −= (rate / c₁) · m / (√v · (1/√c₂) + ε).
    let stepSize = rate / correction1
    let inverseRoot2 = 1 / correction2.squareRoot()
    let shrink = decoupled ? 1 - rate * weightDecay : 1
    let l2 = decoupled ? 0 : weightDecay
    var largest: UInt32 = 0
    for i in 0..<count {
        largest = max(largest, exponentBits(g[i]))
        let grad = g[i] + l2 * w[i]
        let mi = beta1 * m[i] + (1 - beta1) * grad
        let vi = beta2 * v[i] + (1 - beta2) * grad * grad
        m[i] = mi
        v[i] = vi
        w[i] = w[i] * shrink - stepSize * mi / (vi.squareRoot() * inverseRoot2 + epsilon)
    }
    return largest
}
