import Testing
@testable import Engine

/// Every op's backward against finite differences (see `checkGradients`). Tolerance 1e-2: with
/// h = 1e-3 and float32 forward passes, rounding in L contributes about 1e-7 · |L| / h ≈ 1e-3
/// for the small plans here, and the O(h²) truncation far less; a wrong backward (a missing
/// term, a transposed index, a wrong scale) gives errors of order 1.
struct OpGradientTests {
    static let tolerance = 1e-2

    /// Values away from 0 by at least 0.1, so that no ReLU-like kink lies within h of an input.
    static func awayFromZero(_ k: Int, _ i: Int) -> Float {
        var random = Random(seed: UInt64(k * 100_003 + i))
        let magnitude = 0.1 + 0.9 * random.uniform()
        return random.uniform() < 0.5 ? -magnitude : magnitude
    }

    /// Distinct values 0.01 apart in a scrambled order, so that a max-pool window never holds two
    /// values within 2h of each other.
    static func distinct(_ k: Int, _ i: Int) -> Float {
        Float((i * 7919) % 1009) * 0.01 - 5
    }

    func expectSmall(_ report: GradientReport, _ name: String) {
        #expect(report.worst < Self.tolerance, "\(name): \(report)")
        #expect(report.checked > 0)
    }

    @Test func dense() {
        expectSmall(checkGradients(batch: 3, inputs: [[5]]) { b, x in
            b.project(b.dense(x[0], units: 4, name: "d"))
        }, "dense")
    }

    /// Heads fused into one product: each layer's weights and biases, and the shared input.
    @Test func denseGroup() {
        expectSmall(checkGradients(batch: 3, inputs: [[6]]) { b, x in
            let outs = b.denseGroup(x[0], units: [1, 4, 2], initialization: [.glorot, .he, .glorot], names: ["a", "b", "c"])
            return b.project(b.concat([outs[0], b.tanh(outs[1]), outs[2]]))
        }, "dense group")
    }

    /// A fused group computes what separate dense layers with the same weights compute.
    @Test func denseGroupEqualsSeparateLayers() {
        func run(fused: Bool) -> [Float] {
            let b = PlanBuilder(maxBatch: 4)
            let x = b.input([5])
            let outs = fused ? b.denseGroup(x, units: [3, 1], initialization: [.glorot, .glorot], names: ["a", "b"])
                : [b.dense(x, units: 3, name: "a"), b.dense(x, units: 1, name: "b")]
            let plan = b.build(seed: 1)
            for p in plan.parameters {
                for i in 0..<p.count { p.value[i] = Float((p.name.count * 31 + i * 7) % 13) * 0.1 - 0.6 }
            }
            for i in 0..<20 { x.data[i] = Float(i % 7) * 0.3 - 1 }
            plan.forward(batch: 4, mode: .evaluation)
            return outs.flatMap { Array($0.values(batch: 4)) }
        }
        #expect(run(fused: true) == run(fused: false))
    }

    /// Dense with its ReLU fused computes what dense then relu compute, values and gradients.
    @Test func denseWithFusedReLUEqualsDenseThenReLU() {
        func run(fused: Bool) -> [Float] {
            let b = PlanBuilder(maxBatch: 4)
            let h = b.tensor([5])  // filled below; its gradient is what dense writes
            let y = fused ? b.dense(h, units: 6, relu: true, name: "a") : b.relu(b.dense(h, units: 6, name: "a"))
            b.project(y)
            let plan = b.build(seed: 1)
            for p in plan.parameters where p.name.hasPrefix("a.") {
                for i in 0..<p.count { p.value[i] = Float((i * 7) % 13) * 0.1 - 0.6 }
            }
            for i in 0..<20 { h.data[i] = Float(i % 7) * 0.3 - 1 }
            plan.forward(batch: 4, mode: .training)
            plan.backward(batch: 4)
            return Array(y.values(batch: 4)) + Array(h.gradients(batch: 4)!) + plan.parameters.flatMap { p in
                (0..<p.count).map { p.grad[$0] }
            }
        }
        #expect(run(fused: true) == run(fused: false))
    }

    @Test func denseWithFusedReLU() {
        expectSmall(checkGradients(batch: 3, inputs: [[5]]) { b, x in
            b.project(b.dense(x[0], units: 4, relu: true, name: "d"))
        }, "dense with fused relu")
    }

    @Test func denseOverSequencePositions() {
        expectSmall(checkGradients(batch: 2, inputs: [[3, 4]]) { b, x in
            b.project(b.dense(x[0], units: 2, bias: false, name: "d"))
        }, "dense per position")
    }

    @Test(arguments: ["relu", "leaky_relu", "gelu", "tanh", "sigmoid"])
    func activations(_ name: String) {
        let report = checkGradients(batch: 2, inputs: [[6]], fill: Self.awayFromZero) { b, x in
            let y = switch name {
            case "relu": b.relu(x[0])
            case "leaky_relu": b.leakyReLU(x[0], slope: 0.1)
            case "gelu": b.gelu(x[0])
            case "tanh": b.tanh(x[0])
            default: b.sigmoid(x[0])
            }
            b.project(y)
        }
        expectSmall(report, name)
    }

    @Test func dropoutInTrainingAndEvaluation() {
        for mode in [PassMode.training, .evaluation] {
            expectSmall(checkGradients(batch: 4, mode: mode, inputs: [[8]]) { b, x in
                b.project(b.dropout(x[0], rate: 0.5))
            }, "dropout \(mode)")
        }
    }

    /// Both ways of computing a convolution: directly (forward and weight gradient) and
    /// through im2col and sgemm.
    @Test(arguments: [ConvolutionMethod.direct, .im2col]) func conv2dWithStrideAndPadding(method: ConvolutionMethod) {
        for (stride, padding) in [(1, ConvPadding.zeros(0)), (2, .zeros(1)), (2, .same), (1, .same), (1, .zeros(2))] {
            expectSmall(checkGradients(batch: 2, inputs: [[5, 6, 2]]) { b, x in
                b.project(b.conv2d(x[0], filters: 3, kernel: 3, stride: stride, padding: padding, bias: true,
                                   initialization: .glorot, method: method, name: "c"))
            }, "conv stride \(stride) padding \(padding), \(method)")
        }
    }

    /// Winograd F(2×2, 3×3): forward and input gradient through its transforms, the weight
    /// gradient through im2col; even and odd sides, with and without bias.
    @Test func conv2dWinograd() {
        for (shape, bias) in [([5, 6, 2], true), ([3, 3, 4], false), ([4, 4, 3], true)] {
            expectSmall(checkGradients(batch: 2, inputs: [shape]) { b, x in
                b.project(b.conv2d(x[0], filters: 3, kernel: 3, stride: 1, padding: .same, bias: bias,
                                   initialization: .glorot, method: .winograd, name: "c"))
            }, "Winograd conv, input \(shape), bias \(bias)")
        }
    }

    /// The direct method's input gradient at strides 2 and 3 (scattered: 8 channels and more).
    @Test func conv2dScatteredInputGradient() {
        for (stride, padding) in [(2, ConvPadding.same), (2, .zeros(1)), (3, .zeros(0))] {
            expectSmall(checkGradients(batch: 2, inputs: [[7, 6, 9]]) { b, x in
                b.project(b.conv2d(x[0], filters: 5, kernel: 3, stride: stride, padding: padding, bias: true,
                                   initialization: .glorot, method: .direct, name: "c"))
            }, "conv stride \(stride) padding \(padding), scattered")
        }
    }

    /// Without a bias: no `.bias` parameter, and the weight and input gradients still check.
    @Test(arguments: [ConvolutionMethod.direct, .im2col]) func conv2dWithoutBias(method: ConvolutionMethod) {
        for (stride, padding) in [(1, ConvPadding.zeros(0)), (2, .zeros(3)), (2, .same), (1, .zeros(3))] {
            expectSmall(checkGradients(batch: 2, inputs: [[5, 6, 2]]) { b, x in
                b.project(b.conv2d(x[0], filters: 3, kernel: 3, stride: stride, padding: padding, bias: false,
                                   initialization: .glorot, method: method, name: "c"))
            }, "conv without bias, stride \(stride) padding \(padding), \(method)")
        }
        let b = PlanBuilder(maxBatch: 1)
        _ = b.conv2d(b.input([4, 4, 2]), filters: 3, kernel: 3, bias: false, name: "c")
        #expect(b.build(seed: 1).parameters.map(\.name) == ["c.weight"])
    }

    /// A convolution without bias computes what one with a zero bias computes, values and
    /// input and weight gradients, bit for bit.
    @Test func conv2dWithoutBiasEqualsZeroBias() {
        func run(bias: Bool) -> [Float] {
            let b = PlanBuilder(maxBatch: 3)
            let x = b.tensor([6, 5, 2])
            let y = b.conv2d(x, filters: 4, kernel: 3, stride: 2, padding: .zeros(1), bias: bias, name: "c")
            b.project(y)
            let plan = b.build(seed: 1)
            for p in plan.parameters {
                for i in 0..<p.count { p.value[i] = p.name.hasSuffix(".bias") ? 0 : Float((i * 7) % 13) * 0.1 - 0.6 }
            }
            for i in 0..<(3 * x.sampleSize) { x.data[i] = Float(i % 11) * 0.2 - 1 }
            plan.forward(batch: 3, mode: .training)
            plan.backward(batch: 3)
            let weight = plan.parameters[0]  // declared first, before the bias
            return Array(y.values(batch: 3)) + Array(x.gradients(batch: 3)!) + (0..<weight.count).map { weight.grad[$0] }
        }
        #expect(run(bias: false) == run(bias: true))
    }

    @Test func maxPool() {
        expectSmall(checkGradients(batch: 2, inputs: [[5, 4, 3]], fill: Self.distinct) { b, x in
            b.project(b.maxPool(x[0], size: 2, stride: 2))
        }, "maxpool")
        expectSmall(checkGradients(batch: 1, inputs: [[5, 5, 2]], fill: Self.distinct) { b, x in
            b.project(b.maxPool(x[0], size: 3, stride: 1))
        }, "overlapping maxpool")
    }

    /// Windows hanging over the edges: the gradient goes to inside pixels only, the first
    /// maximum of each window.
    @Test func maxPoolWithPadding() {
        for (size, stride, padding) in [(3, 2, 1), (2, 1, 1), (3, 1, 1), (5, 2, 2)] {
            expectSmall(checkGradients(batch: 2, inputs: [[5, 6, 2]], fill: Self.distinct) { b, x in
                b.project(b.maxPool(x[0], size: size, stride: stride, padding: padding))
            }, "maxpool size \(size) stride \(stride) padding \(padding)")
        }
    }

    /// Padding is −∞, not zero: on negative inputs every output is a value of the image, the
    /// maximum of the window's inside pixels, checked against a plain reference.
    @Test func maxPoolPaddingIsMinusInfinity() {
        let (h, w, c, size, stride, padding) = (5, 4, 2, 3, 2, 1)
        let b = PlanBuilder(maxBatch: 1)
        let x = b.input([h, w, c])
        let y = b.maxPool(x, size: size, stride: stride, padding: padding)
        let plan = b.build(seed: 1)
        func pixel(_ iy: Int, _ ix: Int, _ ch: Int) -> Float { -1 - Float((iy * 7 + ix * 3 + ch * 5) % 17) * 0.25 }
        for iy in 0..<h { for ix in 0..<w { for ch in 0..<c { x.data[(iy * w + ix) * c + ch] = pixel(iy, ix, ch) } } }
        plan.forward(batch: 1, mode: .evaluation)
        #expect(y.shape == [3, 2, c])  // ⌊(5 + 2 − 3) / 2⌋ + 1, ⌊(4 + 2 − 3) / 2⌋ + 1
        var expected: [Float] = []
        for oy in 0..<y.shape[0] {
            for ox in 0..<y.shape[1] {
                for ch in 0..<c {
                    var best = -Float.infinity
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let (iy, ix) = (oy * stride - padding + ky, ox * stride - padding + kx)
                            if iy >= 0, iy < h, ix >= 0, ix < w { best = max(best, pixel(iy, ix, ch)) }
                        }
                    }
                    expected.append(best)
                }
            }
        }
        #expect(Array(y.values(batch: 1)) == expected)
    }

    @Test func avgPoolAndGlobalAvgPool() {
        expectSmall(checkGradients(batch: 2, inputs: [[5, 4, 3]]) { b, x in
            b.project(b.avgPool(x[0], size: 2, stride: 1))
        }, "avgpool")
        expectSmall(checkGradients(batch: 2, inputs: [[3, 4, 3]]) { b, x in
            b.project(b.globalAvgPool(x[0]))
        }, "global avgpool")
    }

    @Test func channelNormalization() {
        expectSmall(checkGradients(batch: 2, inputs: [[3, 2, 3]]) { b, x in
            b.project(b.channelNormalization(x[0], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]))
        }, "channel normalization")
    }

    /// An image from the data has no gradient, and neither has its normalisation: a convolution
    /// on it computes no input gradient, and a frozen branch on it can run forward only.
    @Test func channelNormalizationOfADataInputHasNoGradient() {
        let b = PlanBuilder(maxBatch: 2)
        let image = b.input([4, 4, 3])
        let normalized = b.channelNormalization(image, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        let y = b.conv2d(normalized, filters: 4, kernel: 3, padding: .same, name: "c")
        b.project(y)
        let plan = b.build(seed: 1)
        #expect(normalized.grad == nil && y.grad != nil)
        #expect(plan.ops.compactMap { $0 as? Conv2DOp }.first?.inputGradient == ConvolutionInputGradient.none)
    }

    @Test func batchNormInTrainingAndEvaluation() {
        for mode in [PassMode.training, .evaluation] {
            expectSmall(checkGradients(batch: 4, mode: mode, inputs: [[2, 2, 3]]) { b, x in
                b.project(b.batchNorm(x[0], name: "bn"))
            }, "batchnorm \(mode)")
        }
    }

    /// Batchnorm with the ReLU inside, against finite differences (inputs away from the kink:
    /// the normalised values of distinct inputs rarely land within h of 0).
    @Test func batchNormWithFusedReLU() {
        for mode in [PassMode.training, .evaluation] {
            expectSmall(checkGradients(batch: 4, mode: mode, inputs: [[2, 2, 3]], fill: Self.distinct) { b, x in
                b.project(b.batchNorm(x[0], relu: true, name: "bn"))
            }, "batchnorm + relu \(mode)")
        }
    }

    /// Batchnorm with the ReLU inside computes what batchnorm then a ReLU compute, bit for bit:
    /// values, running statistics, input and parameter gradients, in training and in evaluation
    /// mode, with the input's gradient assigned and added to (a second reader).
    @Test(arguments: [PassMode.training, .evaluation], [false, true])
    func batchNormWithFusedReLUEqualsBatchNormThenReLU(mode: PassMode, secondReader: Bool) {
        func run(fused: Bool) -> [Float] {
            let b = PlanBuilder(maxBatch: 4, pool: ThreadPool(threads: 2))
            let h = b.tensor([3, 5, 6])
            let y = fused ? b.batchNorm(h, relu: true, name: "bn") : b.relu(b.batchNorm(h, name: "bn"))
            b.project(y)
            if secondReader { b.project(b.tanh(h), seed: 12) }
            let plan = b.build(seed: 1)
            for i in 0..<(4 * h.sampleSize) { h.data[i] = Float((i * 7919) % 1009) * 0.01 - 5 }
            var results: [Float] = []
            for _ in 0..<2 {  // the second step normalises with the running statistics the first one left
                plan.forward(batch: 4, mode: mode)
                plan.backward(batch: 4)
                results += Array(y.values(batch: 4)) + Array(h.gradients(batch: 4)!)
                    + plan.parameters.flatMap { p in (0..<p.count).map { p.grad[$0] } }
                    + plan.state.flatMap { s in (0..<s.shape.reduce(1, *)).map { s.data[$0] } }
            }
            return results
        }
        let fused = run(fused: true), separate = run(fused: false)
        #expect(fused == separate)
        #expect(fused.contains(0) && fused.contains { $0 > 0 })  // the ReLU cuts somewhere, not everywhere
    }

    /// Batchnorm, ReLU and 2 × 2 max pooling as one op, against finite differences: distinct
    /// inputs, so no window holds a tie; on this grid no normalised value lands within h of the
    /// ReLU's kink (on 3 × 4 × 6 × 3 inputs one does, and its difference quotient is off by 2%).
    @Test func batchNormReLUMaxPool() {
        for mode in [PassMode.training, .evaluation] {
            expectSmall(checkGradients(batch: 4, mode: mode, inputs: [[2, 4, 3]], fill: Self.distinct) { b, x in
                b.project(b.batchNormReLUMaxPool(x[0], name: "bn"))
            }, "batchnorm + relu + maxpool \(mode)")
        }
    }

    /// The fused op computes what batchnorm with its ReLU, then max pooling compute: the same
    /// bits forward (values, running statistics) and the same gradients but for the order in
    /// which backward adds its two sums per channel (one term per window here, one per pixel
    /// there, the zeros left out): 1e-5 relative. Inputs on a coarse grid, so that windows hold
    /// ties (the first pixel of the maximum takes the gradient) and windows all below the ReLU.
    @Test(arguments: [PassMode.training, .evaluation], [false, true])
    func batchNormReLUMaxPoolEqualsTheThreeOps(mode: PassMode, secondReader: Bool) throws {
        func run(fused: Bool) -> (values: [Float], gradients: [Float]) {
            let b = PlanBuilder(maxBatch: 4, pool: ThreadPool(threads: 2))
            let h = b.tensor([6, 8, 5])
            let y = fused ? b.batchNormReLUMaxPool(h, name: "bn")
                          : b.maxPool(b.batchNorm(h, relu: true, name: "bn"), size: 2, stride: 2)
            b.project(y)
            if secondReader { b.project(b.tanh(h), seed: 12) }
            let plan = b.build(seed: 1)
            for i in 0..<(4 * h.sampleSize) { h.data[i] = Float((i * 7919) % 13) * 0.5 - 4 + Float(i % 5) }
            var values: [Float] = [], gradients: [Float] = []
            for _ in 0..<2 {  // the second step normalises with the running statistics the first one left
                plan.forward(batch: 4, mode: mode)
                plan.backward(batch: 4)
                values += Array(y.values(batch: 4)) + plan.state.flatMap { s in (0..<s.shape.reduce(1, *)).map { s.data[$0] } }
                gradients += Array(h.gradients(batch: 4)!) + plan.parameters.flatMap { p in (0..<p.count).map { p.grad[$0] } }
            }
            return (values, gradients)
        }
        let fused = run(fused: true), separate = run(fused: false)
        #expect(fused.values == separate.values)
        #expect(fused.values.contains(0) && fused.values.contains { $0 > 0 })  // the ReLU cuts somewhere, not everywhere
        let scale = separate.gradients.map(abs).max() ?? 1
        for (index, (a, e)) in zip(fused.gradients, separate.gradients).enumerated() {
            #expect(abs(a - e) <= 1e-5 * scale, "gradient \(index): \(a) fused, \(e) separate")
        }
        #expect(fused.gradients.contains { $0 != 0 })
    }

    @Test func layerNorm() {
        expectSmall(checkGradients(batch: 3, inputs: [[2, 5]]) { b, x in
            b.project(b.layerNorm(x[0], name: "ln"))
        }, "layernorm")
    }

    @Test func flattenConcatAndResidual() {
        expectSmall(checkGradients(batch: 2, inputs: [[2, 2, 2], [3]]) { b, x in
            let joined = b.concat([b.flatten(x[0]), x[1]])
            b.project(b.residual(joined) { b.tanh(b.dense($0, units: 11, name: "r")) })
        }, "flatten, concat, residual")
    }

    /// A projection shortcut: block(x) + shortcut(x) where both halve the image and change its
    /// channels; the block's parameters are declared before the shortcut's.
    @Test func residualWithShortcut() {
        expectSmall(checkGradients(batch: 2, inputs: [[6, 6, 2]]) { b, x in
            b.project(b.residual(x[0], { b.tanh(b.conv2d($0, filters: 3, kernel: 3, stride: 2, padding: .zeros(1), name: "r.0")) },
                                 shortcut: { b.batchNorm(b.conv2d($0, filters: 3, kernel: 1, stride: 2, bias: false, name: "s.0"), name: "s.1") }))
        }, "residual with shortcut")
        let b = PlanBuilder(maxBatch: 1)
        let y = b.residual(b.input([4, 4, 2]), { b.conv2d($0, filters: 3, kernel: 1, stride: 2, name: "r") },
                           shortcut: { b.conv2d($0, filters: 3, kernel: 1, stride: 2, bias: false, name: "s") })
        #expect(y.shape == [2, 2, 3])
        #expect(b.build(seed: 1).parameters.map(\.name) == ["r.weight", "r.bias", "s.weight"])
    }

    /// `from: [a, b, c]` as the compiler builds it: three widths (4, 2, 3), the middle one a data
    /// input without a gradient. Forward lays each sample's parts side by side; backward hands
    /// each input with a gradient its own slice, past the one without.
    @Test func concatOfThreeWidthsWithADataInput() {
        let data: [Float] = [0.25, -0.5, 0.75, 1.5]  // 2 samples × 2
        expectSmall(checkGradients(batch: 2, inputs: [[2, 2], [3]]) { b, x in
            let input = b.input([2])
            for i in data.indices { input.data[i] = data[i] }
            let joined = b.concat([b.flatten(x[0]), input, x[1]])
            b.project(b.tanh(b.dense(joined, units: 3, name: "d")), seed: 1)
            b.project(joined, seed: 2)
        }, "concat with a data input")

        let builder = PlanBuilder(maxBatch: 2)
        let a = builder.input([2, 2]), c = builder.input([2]), e = builder.input([3])
        let joined = builder.concat([builder.flatten(a), c, e])
        let plan = builder.build(seed: 1)
        for i in 0..<8 { a.data[i] = Float(i) }
        for i in 0..<4 { c.data[i] = Float(10 + i) }
        for i in 0..<6 { e.data[i] = Float(20 + i) }
        plan.forward(batch: 2, mode: .evaluation)
        #expect(joined.shape == [9])
        #expect(Array(joined.values(batch: 2)) == [0, 1, 2, 3, 10, 11, 20, 21, 22,
                                                    4, 5, 6, 7, 12, 13, 23, 24, 25])
    }

    /// GradNorm's taps: each reader's gradient kept apart, then summed into the shared tensor.
    @Test func gradientTaps() {
        expectSmall(checkGradients(batch: 3, inputs: [[4]]) { b, x in
            let taps = b.gradientTaps(b.dense(x[0], units: 3, name: "shared"), count: 2)
            b.project(b.tanh(taps[0]), seed: 1)
            b.project(b.dense(taps[1], units: 2, name: "head"), seed: 2)
        }, "gradient taps")
    }

    @Test func aTensorReadByManyOpsSumsTheirGradients() {
        expectSmall(checkGradients(batch: 2, inputs: [[4]]) { b, x in
            let shared = b.dense(x[0], units: 4, name: "shared")
            b.project(b.tanh(shared), seed: 1)
            b.project(b.sigmoid(shared), seed: 2)
            b.project(b.dense(shared, units: 3, name: "head"), seed: 3)
        }, "shared tensor")
    }

    @Test func embeddingTableAgainstFiniteDifferences() {
        // Ids are whole numbers; h = 1e-3 never moves one to another row, so their own numeric
        // gradient is 0, as backward leaves it.
        expectSmall(checkGradients(batch: 3, inputs: [[4]], fill: { _, i in Float((i * 7) % 5) }) { b, x in
            b.project(b.embedding(x[0], vocabulary: 6, dimension: 3, name: "e"))
        }, "embedding")
    }

    @Test func embeddingGradientsReachOnlyTheRowsUsed() {
        let builder = PlanBuilder(maxBatch: 2)
        let ids = builder.input([3])
        let out = builder.embedding(ids, vocabulary: 5, dimension: 2, name: "e")
        builder.project(out)
        let plan = builder.build(seed: 3)
        for (i, id) in [0, 2, 2, 4, 0, 2].enumerated() { ids.data[i] = Float(id) }
        plan.forward(batch: 2, mode: .training)
        plan.backward(batch: 2)
        let table = plan.parameters[0]
        let projection = plan.losses[0] as! ProjectionLoss
        for row in 0..<5 {
            for j in 0..<2 {
                // d/dtable[row][j] of Σ r · out = Σ of r over the positions that used the row.
                let expected = [0, 2, 2, 4, 0, 2].enumerated().filter { $0.element == row }
                    .reduce(Float(0)) { $0 + projection.r[$1.offset * 2 + j] }
                #expect(abs(table.grad[row * 2 + j] - expected) < 1e-6)
            }
        }
        #expect(table.grad[1 * 2] == 0 && table.grad[3 * 2 + 1] == 0)
    }
}
