import ConvolutionKernels
import Testing
@testable import Engine

/// The direct convolution kernels against their plain reference loops, and the convolution op
/// computed directly against the same op through im2col and sgemm.
struct DirectConvolutionTests {
    /// (channels, kernel, stride, filters, padded height, padded width): tiles of 16, 8, 4 and
    /// single filters (and channels, for the input gradient); rows of 6 pixels and a remainder
    /// of every length 1–5; window elements in sixes and a remainder of 1–5.
    static let shapes: [(c: Int, k: Int, stride: Int, f: Int, ph: Int, pw: Int)] = [
        (3, 3, 1, 16, 10, 16), (3, 5, 2, 16, 11, 15), (1, 3, 1, 29, 5, 9), (2, 3, 2, 8, 7, 17),
        (4, 1, 1, 5, 3, 11), (3, 7, 3, 12, 13, 13), (1, 1, 1, 1, 1, 7), (2, 2, 1, 20, 4, 12),
        (16, 3, 2, 32, 9, 17), (29, 3, 2, 8, 7, 9), (8, 2, 2, 3, 6, 14),
    ]

    static func randoms(_ count: Int, seed: UInt64) -> [Float] {
        var random = Random(seed: seed)
        return (0..<count).map { _ in random.uniform() * 2 - 1 }
    }

    static func shape(_ s: (c: Int, k: Int, stride: Int, f: Int, ph: Int, pw: Int)) -> ft_direct_conv_shape {
        ft_direct_conv_shape(padded_width: Int32(s.pw), channels: Int32(s.c), kernel: Int32(s.k), stride: Int32(s.stride),
                             out_height: Int32((s.ph - s.k) / s.stride + 1), out_width: Int32((s.pw - s.k) / s.stride + 1),
                             filters: Int32(s.f))
    }

    /// Every value of the fast kernels close to the reference's: the terms are at most 1 in
    /// size, so float rounding stays under 1e-6 per term summed; a wrong index or tile gives
    /// errors of order 0.1.
    @Test(arguments: shapes.indices) func kernelsEqualTheReferenceLoops(index: Int) {
        let s = Self.shapes[index], shape = Self.shape(s)
        let window = s.k * s.k * s.c, pixels = Int(shape.out_height * shape.out_width)
        let padded = Self.randoms(s.ph * s.pw * s.c, seed: 1), weight = Self.randoms(window * s.f, seed: 2)
        let bias = Self.randoms(s.f, seed: 3), dout = Self.randoms(pixels * s.f, seed: 4)
        // Float rounding grows with the terms of a sum (the window, the pixels, the filters
        // times the windows over a pixel): 1e-6 a term, far below the error of a wrong term.
        let terms = max(window, pixels, s.f * s.k * s.k)
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 * Float(terms) }
        }

        for withBias in [true, false] {
            var fast = [Float](repeating: .nan, count: pixels * s.f), reference = fast
            withBias ? ft_direct_conv_forward(padded, weight, bias, shape, 0, &fast)
                     : ft_direct_conv_forward(padded, weight, nil, shape, 0, &fast)
            withBias ? ft_direct_conv_forward_reference(padded, weight, bias, shape, 0, &reference)
                     : ft_direct_conv_forward_reference(padded, weight, nil, shape, 0, &reference)
            #expect(close(fast, reference), "forward, bias \(withBias), shape \(s)")
            // Accumulating adds the sum without the bias.
            let before = fast
            var sum = [Float](repeating: .nan, count: pixels * s.f)
            ft_direct_conv_forward_reference(padded, weight, nil, shape, 0, &sum)
            ft_direct_conv_forward(padded, weight, bias, shape, 1, &fast)
            #expect(close(fast, zip(before, sum).map { $0 + $1 }), "accumulated forward, shape \(s)")
        }
        // Written over what the buffer held, then added to it.
        var fast = [Float](repeating: .nan, count: window * s.f), reference = fast
        ft_direct_conv_weight_gradient(padded, dout, shape, 0, &fast)
        ft_direct_conv_weight_gradient_reference(padded, dout, shape, 0, &reference)
        #expect(close(fast, reference), "weight gradient, shape \(s)")
        ft_direct_conv_weight_gradient(padded, dout, shape, 1, &fast)
        #expect(close(fast, reference.map { 2 * $0 }), "accumulated weight gradient, shape \(s)")

        // The input gradient adds to what the padded buffer holds. Here the weights are read
        // as (F, K, K, C), the layer's own layout.
        let start = Self.randoms(s.ph * s.pw * s.c, seed: 5)
        var scattered = start, expected = start
        ft_direct_conv_input_gradient(dout, weight, shape, &scattered)
        ft_direct_conv_input_gradient_reference(dout, weight, shape, &expected)
        #expect(close(scattered, expected), "input gradient, shape \(s)")
    }

    /// The reference itself on a hand computation: a 1-channel 3 × 3 image of 1…9, a 2 × 2
    /// kernel [[1, 2], [3, 4]] and a second filter of ones, stride 1; a window at (y, x) covers
    /// a, b (row y) and c, d (row y + 1), so the first filter gives a + 2b + 3c + 4d.
    @Test func referenceOnAHandComputation() {
        let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let weight: [Float] = [1, 1, 2, 1, 3, 1, 4, 1]  // (K, K, C, F): element-major, 2 filters
        let shape = ft_direct_conv_shape(padded_width: 3, channels: 1, kernel: 2, stride: 1, out_height: 2, out_width: 2,
                                         filters: 2)
        var out = [Float](repeating: 0, count: 8)
        ft_direct_conv_forward_reference(image, weight, [0.5, 0], shape, 0, &out)
        #expect(out == [37.5, 12, 47.5, 16, 67.5, 24, 77.5, 28])
        ft_direct_conv_forward(image, weight, [0.5, 0], shape, 0, &out)
        #expect(out == [37.5, 12, 47.5, 16, 67.5, 24, 77.5, 28])
        // dweight(ky, kx) = Σ over the 4 windows of the pixel at (ky, kx) in each, times dout:
        // with dout 1 for the first filter everywhere, the sum of the 2 × 2 pixels that kernel
        // element sees (1 + 2 + 4 + 5 for the first), and 0 for the second filter.
        var dweight = [Float](repeating: 0, count: 8)
        ft_direct_conv_weight_gradient_reference(image, [1, 0, 1, 0, 1, 0, 1, 0], shape, 0, &dweight)
        #expect(dweight == [12, 0, 16, 0, 24, 0, 28, 0])
    }

    /// Padding: a 2 × 3 image of 2 channels, one row of zeros above, two columns on the left,
    /// cut to a 4 × 4 buffer (so the image's last column falls outside); then a negative pad,
    /// which leaves out the first row and column.
    @Test func padPlacesTheImageAmongZeros() {
        let image: [Float] = (1...12).map(Float.init)
        var padded = [Float](repeating: .nan, count: 4 * 4 * 2)
        ft_direct_conv_pad(image, 2, 3, 2, 1, 2, 4, 4, &padded)
        let expected: [Float] = [0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 1, 2, 3, 4,
                                 0, 0, 0, 0, 7, 8, 9, 10,
                                 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(padded == expected)
        var cropped = [Float](repeating: .nan, count: 2 * 3 * 2)
        ft_direct_conv_pad(image, 2, 3, 2, -1, -1, 2, 3, &cropped)
        #expect(cropped == [9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Values, input gradients and weight and bias gradients of a convolution computed
    /// directly equal those through im2col and sgemm, within float rounding: each differs by
    /// less than 1e-5 of the largest value of its kind (sums of a few hundred terms; the two
    /// ways add them in different orders). The input gradient: the flipped kernel at stride 1
    /// (padding below, at and above K − 1), scattered at strides 2 and 3 from 8 channels up,
    /// columns below that.
    @Test(arguments: [(1, ConvPadding.same, true, 3), (1, .zeros(0), true, 3), (1, .zeros(3), false, 3),
                      (2, .zeros(1), false, 3), (2, .same, true, 3), (3, .zeros(0), true, 3),
                      (2, .same, true, 8), (2, .zeros(1), false, 16), (3, .zeros(2), true, 12), (2, .zeros(0), true, 8)])
    func directEqualsIm2col(stride: Int, padding: ConvPadding, bias: Bool, channels: Int) {
        expectMethodsAgree(.direct, .im2col, input: [9, 11, channels], filters: 20, stride: stride, padding: padding,
                           bias: bias)
    }

    /// The adjoint of padding: the inside of a padded buffer back into the image, assigned (0
    /// where the buffer does not reach) or added.
    @Test func unpadTakesTheInsideBack() {
        // A 3 × 2 image of 1 channel in a 3 × 3 buffer, one row and one column of padding
        // before it: the buffer reaches rows 0–1 and both columns of the image.
        let padded: [Float] = [0, 0, 0,
                               0, 1, 2,
                               0, 3, 4]
        var image = [Float](repeating: .nan, count: 6)
        ft_direct_conv_unpad(padded, 3, 3, 1, 1, 1, 3, 2, 0, &image)
        #expect(image == [1, 2, 3, 4, 0, 0])
        ft_direct_conv_unpad(padded, 3, 3, 1, 1, 1, 3, 2, 1, &image)
        #expect(image == [2, 4, 6, 8, 0, 0])
    }

    @Test func inputGradientFollowsStrideAndChannels() {
        func geometry(channels: Int, stride: Int) -> ConvGeometry {
            ConvGeometry(h: 8, w: 8, c: channels, k: 3, stride: stride, padTop: 1, padLeft: 1, oh: 8 / stride, ow: 8 / stride)
        }
        func chosen(_ channels: Int, _ stride: Int, _ method: ConvolutionMethod, _ hasGradient: Bool = true) -> ConvolutionInputGradient {
            ConvolutionInputGradient.chosen(for: geometry(channels: channels, stride: stride), method: method,
                                            inputHasGradient: hasGradient)
        }
        #expect(chosen(3, 1, .direct) == .flippedKernel)
        #expect(chosen(8, 2, .direct) == .scattered)
        #expect(chosen(7, 2, .direct) == .columns)
        #expect(chosen(8, 2, .im2col) == .columns)
        #expect(chosen(3, 1, .direct, false) == ConvolutionInputGradient.none)
    }

    @Test func methodFollowsTheInputChannels() {
        func geometry(channels: Int) -> ConvGeometry {
            ConvGeometry(h: 8, w: 8, c: channels, k: 3, stride: 1, padTop: 1, padLeft: 1, oh: 8, ow: 8)
        }
        #expect(ConvolutionMethod.chosen(for: geometry(channels: 3)) == .direct)
        #expect(ConvolutionMethod.chosen(for: geometry(channels: 16)) == .direct)
        #expect(ConvolutionMethod.chosen(for: geometry(channels: 17)) == .im2col)
    }
}

/// Values, input gradients and weight and bias gradients of one convolution (batch 3, seeded
/// inputs and weights) computed by two methods differ by less than 1e-5 of the largest value of
/// their kind: sums of a few hundred terms, added in different orders.
func expectMethodsAgree(_ tried: ConvolutionMethod, _ reference: ConvolutionMethod, input shape: [Int], filters: Int,
                        stride: Int, padding: ConvPadding, bias: Bool) {
    func run(_ method: ConvolutionMethod) -> [[Float]] {
        let b = PlanBuilder(maxBatch: 3, pool: ThreadPool(threads: 2))
        let x = b.tensor(shape)
        let y = b.conv2d(x, filters: filters, kernel: 3, stride: stride, padding: padding, bias: bias,
                         initialization: .glorot, method: method, name: "c")
        b.project(y)
        let plan = b.build(seed: 5)
        for (i, value) in DirectConvolutionTests.randoms(3 * x.sampleSize, seed: 6).enumerated() { x.data[i] = value }
        plan.forward(batch: 3, mode: .training)
        plan.backward(batch: 3)
        return [Array(y.values(batch: 3)), Array(x.gradients(batch: 3)!), (0..<plan.parameterCount).map { plan.gradients[$0] }]
    }
    for (kind, (tried, expected)) in zip(["values", "input gradient", "parameter gradients"], zip(run(tried), run(reference))) {
        let scale = expected.map(abs).max() ?? 0
        let worst = zip(tried, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(tried.count == expected.count && scale > 0 && worst < 1e-5 * scale, "\(kind): \(worst) of \(scale)")
    }
}
