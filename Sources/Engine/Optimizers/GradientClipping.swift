/// Global gradient-norm clipping: when ‖g‖₂ over every trainable gradient exceeds `maxNorm`,
/// all of them are scaled by maxNorm / ‖g‖₂ (PyTorch's clip_grad_norm_, ε = 1e-6).
public enum GradientClipping {
    /// Clips in place and returns the norm before clipping.
    @discardableResult
    public static func clip(_ plan: Plan, maxNorm: Float) -> Float {
        let norm = Float(plan.gradientSquares.sum().squareRoot())
        if norm > maxNorm { plan.gradientSquares.scale(by: maxNorm / (norm + 1e-6)) }
        return norm
    }

    /// The sum the norm is the root of, in one pass as the definition reads: the reference
    /// for `GradientSquares.sum`.
    static func sumOfSquaresReference(_ plan: Plan) -> Double {
        let g = plan.gradients
        var sum: Double = 0
        for parameter in plan.parameters where !parameter.frozen {
            for i in parameter.offset..<(parameter.offset + parameter.count) { sum += Double(g[i]) * Double(g[i]) }
        }
        return sum
    }
}

/// Σ g² over the trainable gradients (the block's prefix of `trainableCount` values) and their
/// scaling, spread over the pool in fixed blocks: each block's squares summed in eight lanes,
/// then the lanes and the blocks' sums in order, so the sum is the same at any thread count
/// (and, summed in another order than one pass, may differ from the reference in the last bits
/// of a double: far below a float's). A serial pass took a few percent of the orders flow's step, on one
/// thread while the other waited.
final class GradientSquares: ParallelLoop {
    let pool: ThreadPool
    let gradients: UnsafeMutablePointer<Float>
    let count: Int
    /// Per block, its sum of squares.
    private let blockSums: UnsafeMutablePointer<Double>
    private var factor: Float = 1
    /// Values per block.
    static let block = 4_096
    private var blocks: Int { (count + Self.block - 1) / Self.block }

    init(pool: ThreadPool, gradients: UnsafeMutablePointer<Float>, count: Int, blockSums: UnsafeMutablePointer<Double>) {
        (self.pool, self.gradients, self.count, self.blockSums) = (pool, gradients, count, blockSums)
    }

    static func blockCount(_ count: Int) -> Int { max((count + block - 1) / block, 1) }

    func sum() -> Double {
        pool.parallelFor(blocks, costPerItem: Self.block * 2, self, part: .sum)
        var total: Double = 0
        for b in 0..<blocks { total += blockSums[b] }
        return total
    }

    func scale(by factor: Float) {
        self.factor = factor
        pool.parallelFor(blocks, costPerItem: Self.block, self, part: .scale)
    }

    enum Part: Int { case sum, scale }

    func run(_ items: Range<Int>, part: Part, worker: Int) {
        for b in items {
            let start = b * Self.block, end = min(start + Self.block, count)
            switch part {
            case .sum:
                // Eight sums side by side (one sum waits on each addition), added up in order.
                var lanes = SIMD8<Double>()
                var i = start
                while i + 8 <= end {
                    let g = SIMD8<Double>(UnsafeRawPointer(gradients + i).loadUnaligned(as: SIMD8<Float>.self))
                    lanes += g * g
                    i += 8
                }
                var sum: Double = 0
                for lane in 0..<8 { sum += lanes[lane] }
                while i < end {
                    sum += Double(gradients[i]) * Double(gradients[i])
                    i += 1
                }
                blockSums[b] = sum
            case .scale:
                for i in start..<end { gradients[i] *= factor }
            }
        }
    }
}
