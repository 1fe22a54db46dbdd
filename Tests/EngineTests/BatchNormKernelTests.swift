import ConvolutionKernels
import Testing
@testable import Engine

/// Batchnorm's C sums (BatchNormSums.c) against the formulas written as plain loops: the same
/// terms added in the same order, so the same bits. 37 rows of 21 channels (no multiple of a
/// vector's width), sums added onto values already there, as a block's partial sums are.
struct BatchNormKernelTests {
    let rows = 37, c = 21
    let x: [Float], dout: [Float], out: [Float], center: [Float], rstd: [Float], start: [Double]

    init() {
        var random = Random(seed: 4)
        x = (0..<(37 * 21)).map { _ in random.normal() * 3 + 1 }
        dout = (0..<(37 * 21)).map { _ in random.normal() }
        out = (0..<(37 * 21)).map { _ in random.normal() }  // a ReLU's output: its sign gates dout
        center = (0..<21).map { _ in random.normal() }
        rstd = (0..<21).map { _ in random.uniform() + 0.5 }
        start = (0..<21).map { _ in Double(random.normal()) }
    }

    @Test func centeredSumsAreThePlainLoopsToTheBit() {
        var sum = start, squares = start.map { $0 * $0 }
        var expectedSum = sum, expectedSquares = squares
        ft_batchnorm_centered_sums(x, Int32(rows), Int32(c), center, &sum, &squares)
        for r in 0..<rows {
            for j in 0..<c {
                let d = Double(x[r * c + j]) - Double(center[j])
                expectedSum[j] += d
                expectedSquares[j] += d * d
            }
        }
        #expect(sum.map(\.bitPattern) == expectedSum.map(\.bitPattern))
        #expect(squares.map(\.bitPattern) == expectedSquares.map(\.bitPattern))
    }

    /// With a fused ReLU's output (dout where it is positive) and without.
    @Test(arguments: [false, true])
    func gradientSumsAreThePlainLoopsToTheBit(relu: Bool) {
        var sum = start, normalized = start
        var expectedSum = sum, expectedNormalized = normalized
        ft_batchnorm_gradient_sums(x, dout, relu ? out : nil, Int32(rows), Int32(c), center, rstd, &sum, &normalized)
        for r in 0..<rows {
            for j in 0..<c {
                let i = r * c + j
                let g = relu && out[i] <= 0 ? 0 : dout[i]
                expectedSum[j] += Double(g)
                expectedNormalized[j] += Double(g) * Double((x[i] - center[j]) * rstd[j])
            }
        }
        #expect(sum.map(\.bitPattern) == expectedSum.map(\.bitPattern))
        #expect(normalized.map(\.bitPattern) == expectedNormalized.map(\.bitPattern))
        #expect(relu == (sum != (0..<c).map { j in (0..<rows).reduce(start[j]) { $0 + Double(dout[$1 * c + j]) } }))
    }

    /// Pooled values: dout counts where the pooled output is positive, x̂ from the maximum's input.
    @Test func pooledGradientSumsAreThePlainLoopsToTheBit() {
        var sum = start, normalized = start
        var expectedSum = sum, expectedNormalized = normalized
        ft_batchnorm_pooled_gradient_sums(dout, out, x, Int32(rows), Int32(c), center, rstd, &sum, &normalized)
        for r in 0..<rows {
            for j in 0..<c {
                let i = r * c + j
                let g = out[i] > 0 ? dout[i] : 0
                expectedSum[j] += Double(g)
                expectedNormalized[j] += Double(g) * Double((x[i] - center[j]) * rstd[j])
            }
        }
        #expect(sum.map(\.bitPattern) == expectedSum.map(\.bitPattern))
        #expect(normalized.map(\.bitPattern) == expectedNormalized.map(\.bitPattern))
    }
}
