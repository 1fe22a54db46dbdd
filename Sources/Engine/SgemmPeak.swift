import Foundation

/// The machine's single-precision matrix-product speed, the yardstick `bench` measures against.
public struct SgemmPeak: Sendable {
    /// Billions of floating-point operations per second (a multiply-add counts as two).
    public var gflops: Double
    /// Side of the square matrices multiplied.
    public var size: Int
    /// Threads used.
    public var threads: Int

    /// Times square `size`³ products on `threads` threads the way the engine runs its own
    /// (OpenBLAS on one thread in each worker of the pool, `MatrixProduct`), and keeps the best
    /// of `repeats` runs, the one least disturbed by the rest of the machine. Measuring through
    /// OpenBLAS's own threads instead would leave them spinning for a while afterwards,
    /// competing with the pool for the cores during the very steps being timed.
    public static func measure(size: Int = 1024, repeats: Int = 5, threads: Int) -> SgemmPeak {
        let pool = threads == ThreadPool.shared.threads ? ThreadPool.shared : ThreadPool(threads: threads)
        let product = MatrixProduct(pool: pool)
        let count = size * size
        let a = [Float](repeating: 0.5, count: count)
        let b = [Float](repeating: 0.25, count: count)
        var c = [Float](repeating: 0, count: count)
        var best = Double.infinity
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for _ in 0..<(repeats + 1) {  // the first run warms caches and threads
                        let start = DispatchTime.now().uptimeNanoseconds
                        product(m: size, n: size, k: size, a.baseAddress!, lda: size, b.baseAddress!, ldb: size,
                                beta: 0, c.baseAddress!, ldc: size)
                        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    }
                }
            }
        }
        let flops = 2 * Double(size) * Double(size) * Double(size)
        return SgemmPeak(gflops: flops / best / 1e9, size: size, threads: threads)
    }
}
