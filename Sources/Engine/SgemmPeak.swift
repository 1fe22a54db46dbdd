import CBLAS
import Foundation

/// The machine's single-precision matrix-product speed, the yardstick `bench` measures against.
public struct SgemmPeak: Sendable {
    /// Billions of floating-point operations per second (a multiply-add counts as two).
    public var gflops: Double
    /// Side of the square matrices multiplied.
    public var size: Int
    /// BLAS threads used.
    public var threads: Int

    /// Times square `size`³ products with OpenBLAS's own `threads` threads and keeps the best of
    /// `repeats` runs, since the best run is the one least disturbed by the rest of the machine.
    public static func measure(size: Int = 1024, repeats: Int = 5, threads: Int) -> SgemmPeak {
        openblas_set_num_threads(Int32(threads))
        let count = size * size
        let a = [Float](repeating: 0.5, count: count)
        let b = [Float](repeating: 0.25, count: count)
        var c = [Float](repeating: 0, count: count)
        let n = Int32(size)
        var best = Double.infinity
        for _ in 0..<(repeats + 1) {  // the first run warms caches and starts BLAS threads
            let start = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, &c, n)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
        }
        openblas_set_num_threads(1)  // the engine splits its products itself (`MatrixProduct`)
        let flops = 2 * Double(size) * Double(size) * Double(size)
        return SgemmPeak(gflops: flops / best / 1e9, size: size, threads: threads)
    }
}
