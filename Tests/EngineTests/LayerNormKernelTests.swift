import Testing
@testable import Engine

/// Layer norm's kernels against the plain loops: the forward pass and the input's gradient
/// eight rows at a time, the weight and bias gradients eight columns at a time.
struct LayerNormKernelTests {
    /// 37 rows of 21: groups of eight rows and a tail, over two ranges the way two threads split
    /// them (one starting off the group grid); the input's gradient adds onto values already there.
    @Test func theEightRowKernelsAreThePlainLoopsToTheBit() {
        let (rows, c) = (37, 21)
        var random = Random(seed: 9)
        let inp = (0..<(rows * c)).map { _ in random.uniform() * 4 - 2 }
        let dout = (0..<(rows * c)).map { _ in random.uniform() * 2 - 1 }
        let weight = (0..<c).map { _ in random.uniform() + 0.5 }, bias = (0..<c).map { _ in random.uniform() - 0.5 }
        let start = (0..<(rows * c)).map { _ in random.uniform() }
        func run(fast: Bool) -> (out: [Float], mean: [Float], rstd: [Float], dinp: [Float]) {
            var out = [Float](repeating: 0, count: rows * c), mean = [Float](repeating: 0, count: rows)
            var rstd = mean, dinp = start
            for range in [0..<13, 13..<rows] {
                (fast ? layerNormForward : layerNormForwardReference)(&out, &mean, &rstd, inp, weight, bias, range, c, 1e-5)
                (fast ? layerNormBackwardInput : layerNormBackwardInputReference)(&dinp, dout, inp, weight, mean, rstd,
                                                                                  range, c)
            }
            return (out, mean, rstd, dinp)
        }
        let fast = run(fast: true), plain = run(fast: false)
        #expect(fast.out.map(\.bitPattern) == plain.out.map(\.bitPattern))
        #expect(fast.mean.map(\.bitPattern) == plain.mean.map(\.bitPattern))
        #expect(fast.rstd.map(\.bitPattern) == plain.rstd.map(\.bitPattern))
        #expect(fast.dinp.map(\.bitPattern) == plain.dinp.map(\.bitPattern))
        #expect(fast.dinp != start)
    }

    @Test func theEightColumnSumsAreThePlainLoopsToTheBit() {
        // 21 columns: two full blocks of eight and a tail, split between two "threads" at 13,
        // so one range starts off the block grid; sums start from values already there.
        let (rows, c) = (37, 21)
        var random = Random(seed: 5)
        let dout = (0..<(rows * c)).map { _ in random.uniform() * 2 - 1 }
        let inp = (0..<(rows * c)).map { _ in random.uniform() * 4 - 2 }
        let mean = (0..<rows).map { _ in random.uniform() - 0.5 }
        let rstd = (0..<rows).map { _ in random.uniform() + 0.5 }
        let start = (0..<c).map { _ in random.uniform() }
        func sums(_ kernel: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafePointer<Float>,
                             UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int, Int, Range<Int>) -> Void)
            -> [Float] {
            var weight = start, bias = start.map { -$0 }
            weight.withUnsafeMutableBufferPointer { w in
                bias.withUnsafeMutableBufferPointer { b in
                    for columns in [0..<13, 13..<c] {
                        kernel(w.baseAddress!, b.baseAddress!, dout, inp, mean, rstd, rows, c, columns)
                    }
                }
            }
            return weight + bias
        }
        let fast = sums(layerNormBackwardParameters), plain = sums(layerNormBackwardParametersReference)
        #expect(fast == plain)
        #expect(fast != start + start.map { -$0 })
    }
}
