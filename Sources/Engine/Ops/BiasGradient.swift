// The bias gradient of a dense layer (the column sums of its output's gradient), and for a
// layer with a fused ReLU the ReLU's backward too, in one pass over the gradient.

/// dbias[j] += Σ_rows dy[row, j], after dy[row, j] *= (y[row, j] > 0) when `relu`.
///
/// Workers take bands of columns and walk every row in order, so each column's sum is added
/// in the same order at any thread count, and the inner loop runs along a row and vectorises.
/// A matrix product with a vector of ones would need the masked gradient written first and
/// read again.
final class BiasGradient: ParallelLoop {
    private var output: UnsafePointer<Float>?, gradient: UnsafeMutablePointer<Float>?
    private var bias: UnsafeMutablePointer<Float>?
    private var rows = 0, columns = 0, relu = false
    private let pool: ThreadPool
    /// Columns per item: a cache line of floats.
    private static let band = 16

    init(pool: ThreadPool) { self.pool = pool }

    /// Over `rows` × `columns` gradients `dy` (row-major) of the output `y`; `bias` nil masks only.
    func callAsFunction(rows: Int, columns: Int, output y: UnsafePointer<Float>, gradient dy: UnsafeMutablePointer<Float>,
                        bias: UnsafeMutablePointer<Float>?, relu: Bool) {
        guard relu || bias != nil else { return }
        (self.rows, self.columns, self.relu) = (rows, columns, relu)
        (output, gradient, self.bias) = (y, dy, bias)
        pool.parallelFor((columns + Self.band - 1) / Self.band, costPerItem: Self.band * rows * 2, self)
        (output, gradient, self.bias) = (nil, nil, nil)
    }

    func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        guard let y = output, let dy = gradient else { return }
        let start = items.lowerBound * Self.band, end = min(items.upperBound * Self.band, columns)
        guard start < end else { return }
        let count = end - start
        for r in 0..<rows {
            let yRow = y + r * columns + start, dyRow = dy + r * columns + start
            if relu {
                for j in 0..<count {
                    let keep: Float = yRow[j] > 0 ? 1 : 0  // a select of constants: no branch, it vectorises
                    dyRow[j] *= keep
                }
            }
            guard let bias else { continue }
            let sums = bias + start
            for j in 0..<count { sums[j] += dyRow[j] }
        }
    }
}
