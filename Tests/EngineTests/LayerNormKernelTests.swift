import Testing
@testable import Engine

/// Layer norm's weight and bias gradients, eight columns at a time, against the plain loops.
struct LayerNormKernelTests {
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
