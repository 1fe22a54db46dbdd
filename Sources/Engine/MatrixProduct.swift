import CBLAS

/// C = α · op(A) · op(B) + β · C, split across the engine's thread pool: OpenBLAS runs on one
/// thread inside each worker, and the pool hands each worker a band of C's rows (or, when C
/// has more columns than rows, a band of its columns). No element of C is summed across
/// workers, so the result does not depend on the thread count, and a small product costs no
/// more than OpenBLAS's own threading would.
///
/// An op owns one and calls it for each of its products in turn; setting the fields and
/// handing itself to the pool allocates nothing.
final class MatrixProduct: ParallelLoop {
    private let pool: ThreadPool
    private var transA = false, transB = false
    private var m = 0, n = 0, k = 0
    private var alpha: Float = 1, beta: Float = 0
    private var a: UnsafePointer<Float>?, b: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>?
    private var lda = 0, ldb = 0, ldc = 0
    private var byRows = true
    private var relu = false
    private var bias: UnsafePointer<Float>?

    /// Rows (or columns) of C per item the pool splits: keeps bands aligned to SIMD widths.
    private static let band = 16

    init(pool: ThreadPool) { self.pool = pool }

    /// Row-major sgemm: A is m × k (k × m when `transA`), B is k × n (n × k when `transB`).
    /// The epilogue, applied by each worker to its band while it is still in cache: with
    /// `bias` (n values), C's rows get it added; with `relu`, C = max(C, 0) afterwards (a dense
    /// layer with its bias and the ReLU after it, in one pass).
    func callAsFunction(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
                        _ c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil,
                        relu: Bool = false) {
        guard m > 0, n > 0 else { return }
        self.relu = relu
        self.bias = bias
        (self.transA, self.transB, self.m, self.n, self.k) = (transA, transB, m, n, k)
        (self.alpha, self.beta, self.a, self.b, self.c) = (alpha, beta, a, b, c)
        (self.lda, self.ldb, self.ldc) = (lda, ldb, ldc)
        byRows = m >= n
        let items = ((byRows ? m : n) + Self.band - 1) / Self.band
        pool.parallelFor(items, costPerItem: Self.band * (byRows ? n : m) * max(k, 1), self)
        self.a = nil
        self.b = nil
        self.c = nil
        self.bias = nil
    }

    func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        guard var a, var b, var c else { return }
        let whole = byRows ? m : n
        let start = items.lowerBound * Self.band, end = min(items.upperBound * Self.band, whole)
        guard start < end else { return }
        var rows = m, columns = n, bias = self.bias
        if byRows {
            a += transA ? start : start * lda
            c += start * ldc
            rows = end - start
        } else {
            b += transB ? start * ldb : start
            c += start
            bias = bias.map { $0 + start }
            columns = end - start
        }
        var beta = self.beta
        if let bias {
            // C starts as the bias rows (scaled by β when it accumulates) and the product adds
            // onto them: one pass over C, where OpenBLAS would zero it first and we would then
            // add the bias in a second.
            for r in 0..<rows {
                let row = c + r * ldc
                if beta == 0 {
                    for j in 0..<columns { row[j] = bias[j] }
                } else {
                    for j in 0..<columns { row[j] = beta * row[j] + bias[j] }
                }
            }
            beta = 1
        } else if beta == 0 {
            // OpenBLAS's own β = 0 pass is slower than a memset (a third of the time of a
            // product with k = 21 went to it), so C is cleared here and the product adds.
            if columns == ldc {
                c.update(repeating: 0, count: rows * columns)
            } else {
                for r in 0..<rows { (c + r * ldc).update(repeating: 0, count: columns) }
            }
            beta = 1
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(columns), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        guard relu else { return }
        for r in 0..<rows {
            let row = c + r * ldc
            for j in 0..<columns { row[j] = max(row[j], 0) }
        }
    }
}
