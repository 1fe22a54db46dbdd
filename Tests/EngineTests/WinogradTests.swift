import ConvolutionKernels
import Testing
@testable import Engine

/// Winograd F(2×2, 3×3): its transforms against the matrix products they stand for, a hand
/// computation, and the convolution op through Winograd against the same op through im2col.
struct WinogradTests {
    /// (samples, height, width, channels, filters): even and odd sides (tiles hanging over the
    /// last row and column), a single pixel, channels and filters in lanes of 8 and remainders.
    static let shapes: [(n: Int, h: Int, w: Int, c: Int, f: Int)] = [
        (2, 4, 4, 8, 8), (2, 7, 7, 13, 5), (3, 5, 6, 3, 17), (2, 1, 1, 9, 2), (1, 2, 3, 16, 24), (2, 8, 3, 1, 1),
    ]

    static func randoms(_ count: Int, seed: UInt64) -> [Float] {
        var random = Random(seed: seed)
        return (0..<count).map { _ in random.uniform() * 2 - 1 }
    }

    /// Each fast transform gives the reference's values: both add the same few terms (at most
    /// 16 of size ≤ 1), so they differ by rounding at most, far below a wrong term's 0.1.
    @Test(arguments: shapes.indices) func transformsEqualTheReferenceProducts(index: Int) {
        let s = Self.shapes[index]
        func close(_ a: [Float], _ b: [Float], _ what: String) {
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(a.count == b.count && !a.contains { $0.isNaN } && worst < 1e-5, "\(what), shape \(s): \(worst)")
        }
        let weight = Self.randoms(s.f * 9 * s.c, seed: 1)
        for flipped: Int32 in [0, 1] {
            var fast = [Float](repeating: .nan, count: 16 * s.f * s.c), reference = fast
            // In two ranges of filters, as the op's workers compute it.
            ft_winograd_weights(weight, Int32(s.c), Int32(s.f), flipped, 0, Int32(s.f / 2), &fast)
            ft_winograd_weights(weight, Int32(s.c), Int32(s.f), flipped, Int32(s.f / 2), Int32(s.f), &fast)
            ft_winograd_weights_reference(weight, Int32(s.c), Int32(s.f), flipped, &reference)
            close(fast, reference, "weights, flipped \(flipped)")
        }
        let tilesHigh = Int(ft_winograd_tiles(Int32(s.h))), tilesWide = Int(ft_winograd_tiles(Int32(s.w)))
        let input = Self.randoms(s.n * s.h * s.w * s.c, seed: 2)
        let inputShape = ft_winograd_shape(height: Int32(s.h), width: Int32(s.w), channels: Int32(s.c))
        let outputShape = ft_winograd_shape(height: Int32(s.h), width: Int32(s.w), channels: Int32(s.f))
        // Every tile row of the batch, and a range that starts and ends inside samples.
        let rows = s.n * tilesHigh
        for (first, end) in [(0, rows), (min(1, rows - 1), max(rows - 1, 1))] {
            let tiles = (end - first) * tilesWide
            var fast = [Float](repeating: .nan, count: 16 * tiles * s.c), reference = fast
            ft_winograd_input_transform(input, inputShape, Int32(first), Int32(end), &fast)
            ft_winograd_input_transform_reference(input, inputShape, Int32(first), Int32(end), &reference)
            close(fast, reference, "input transform of rows \(first)..<\(end)")

            let products = Self.randoms(16 * tiles * s.f, seed: 3), bias = Self.randoms(s.f, seed: 4)
            let start = Self.randoms(s.n * s.h * s.w * s.f, seed: 5)
            for (withBias, accumulate) in [(true, Int32(0)), (false, 0), (true, 1)] {
                var out = start, expected = start
                ft_winograd_output_transform(products, outputShape, withBias ? bias : nil, Int32(first), Int32(end),
                                             accumulate, &out)
                ft_winograd_output_transform_reference(products, outputShape, withBias ? bias : nil, Int32(first),
                                                       Int32(end), accumulate, &expected)
                close(out, expected, "output transform, bias \(withBias), accumulate \(accumulate)")
                // Pixels outside the rows' tiles keep what they held.
                let firstPixel = first / tilesHigh * s.h * s.w + min(2 * (first % tilesHigh), s.h) * s.w
                #expect(out[0..<(firstPixel * s.f)] == start[0..<(firstPixel * s.f)])
            }
        }
    }

    /// The whole method by hand on one tile: a 2 × 2 image of one channel [[1, 2], [3, 4]], the
    /// kernel 1…9 (rows), one pixel of zeros around. Output (y, x) = Σ kernel(i, j) ·
    /// image(y − 1 + i, x − 1 + j): (0, 0) sees the image under kernel elements 5, 6, 8, 9:
    /// 5 + 12 + 24 + 36 = 77; (0, 1): 4 + 10 + 21 + 32 = 67; (1, 0): 2 + 6 + 15 + 24 = 47;
    /// (1, 1): 1 + 4 + 12 + 20 = 37.
    @Test func oneTileByHand() {
        let image: [Float] = [1, 2, 3, 4], kernel: [Float] = (1...9).map(Float.init)
        let shape = ft_winograd_shape(height: 2, width: 2, channels: 1)
        var u = [Float](repeating: 0, count: 16), v = u
        ft_winograd_weights(kernel, 1, 1, 0, 0, 1, &u)
        ft_winograd_input_transform(image, shape, 0, 1, &v)
        let m = zip(u, v).map { $0 * $1 }  // one channel: the product at each position is elementwise
        var out = [Float](repeating: 0, count: 4)
        ft_winograd_output_transform(m, shape, [0.5], 0, 1, 0, &out)
        #expect(out == [77.5, 67.5, 47.5, 37.5])
        // The flipped kernel 9…1 gives the convolution with the kernel turned by 180°:
        // (0, 0) = 5·1 + 4·2 + 2·3 + 1·4 = 23, (1, 1) = 9·1 + 8·2 + 6·3 + 5·4 = 63.
        ft_winograd_weights(kernel, 1, 1, 1, 0, 1, &u)
        ft_winograd_output_transform(zip(u, v).map { $0 * $1 }, shape, nil, 0, 1, 0, &out)
        #expect(out == [23, 33, 53, 63])
    }

    /// Values, input gradients and weight and bias gradients of a convolution through Winograd
    /// equal those through im2col and sgemm, within float rounding: each differs by less than
    /// 1e-5 of the largest value of its kind (Winograd's transforms scale terms by up to 4 and
    /// add them in another order).
    @Test(arguments: [(9, 11, 3, 20, true), (7, 7, 17, 5, false), (4, 5, 32, 40, true), (1, 3, 8, 9, true),
                      (16, 16, 32, 64, false)])
    func winogradEqualsIm2col(height: Int, width: Int, channels: Int, filters: Int, bias: Bool) {
        expectMethodsAgree(.winograd, .im2col, input: [height, width, channels], filters: filters, stride: 1,
                           padding: .same, bias: bias)
    }

    @Test func methodTakesStrideOneThreeByThreeLayersThatKeepTheirSize() {
        func geometry(_ c: Int, k: Int = 3, stride: Int = 1, pad: Int = 1, size: Int = 8) -> ConvGeometry {
            let out = (size + 2 * pad - k) / stride + 1
            return ConvGeometry(h: size, w: size, c: c, k: k, stride: stride, padTop: pad, padLeft: pad, oh: out, ow: out)
        }
        #expect(ConvolutionMethod.chosen(for: geometry(64)) == .winograd)
        #expect(ConvolutionMethod.chosen(for: geometry(512, size: 7)) == .winograd)
        #expect(ConvolutionMethod.chosen(for: geometry(32)) == .im2col)
        #expect(ConvolutionMethod.chosen(for: geometry(16)) == .direct)
        #expect(ConvolutionMethod.chosen(for: geometry(64, stride: 2)) == .im2col)
        #expect(ConvolutionMethod.chosen(for: geometry(64, k: 5, pad: 2)) == .im2col)
        #expect(ConvolutionMethod.chosen(for: geometry(64, pad: 0)) == .im2col)
        #expect(ConvolutionInputGradient.chosen(for: geometry(32), method: .winograd, inputHasGradient: true) == .winograd)
        #expect(ConvolutionInputGradient.chosen(for: geometry(32), method: .winograd, inputHasGradient: false) == .none)
    }
}
