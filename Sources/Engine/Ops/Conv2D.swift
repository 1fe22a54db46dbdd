import CBLAS
import ConvolutionKernels

// 2-D convolution on NHWC images as im2col and sgemm, a group of samples at a time.
// Weights are (F, K, K, C): each filter is a row of K·K·C values in the order im2col writes
// a window, so out (rows, F) = cols (rows, K·K·C) · weightᵀ with the transpose flag, no copy.
// Layers with few input channels compute directly instead, and stride-1 3 × 3 layers with
// Winograd's transforms (ConvolutionKernels; see `ConvolutionMethod`).

/// Geometry of a convolution: input H × W × C, K × K kernel, stride, padding before each axis.
struct ConvGeometry {
    var h, w, c, k, stride, padTop, padLeft, oh, ow: Int
    var window: Int { k * k * c }

    /// Whether Winograd F(2×2, 3×3) computes it: 3 × 3, stride 1, one pixel of zeros on
    /// every side, the output the input's size.
    var isWinogradShaped: Bool { k == 3 && stride == 1 && padTop == 1 && padLeft == 1 && oh == h && ow == w }
}

/// cols (B·OH·OW, K·K·C): each row one window of the input, zeros where it hangs over the edge.
/// A window's row of K pixels is K·C consecutive floats in an NHWC image, so each is copied in
/// one go where it lies inside the image.
func im2col(_ cols: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ g: ConvGeometry, _ samples: Range<Int>) {
    let span = g.k * g.c
    for n in samples {
        let image = inp + n * g.h * g.w * g.c
        for oy in 0..<g.oh {
            for ox in 0..<g.ow {
                let row = cols + ((n * g.oh + oy) * g.ow + ox) * g.window
                let x0 = ox * g.stride - g.padLeft
                let inside = x0 >= 0 && x0 + g.k <= g.w
                for ky in 0..<g.k {
                    let iy = oy * g.stride - g.padTop + ky
                    let dst = row + ky * span
                    if iy < 0 || iy >= g.h {
                        for i in 0..<span { dst[i] = 0 }
                    } else if inside {
                        let src = image + (iy * g.w + x0) * g.c
                        for i in 0..<span { dst[i] = src[i] }
                    } else {
                        for kx in 0..<g.k {
                            let ix = x0 + kx, to = dst + kx * g.c
                            if ix >= 0, ix < g.w {
                                let src = image + (iy * g.w + ix) * g.c
                                for ch in 0..<g.c { to[ch] = src[ch] }
                            } else {
                                for ch in 0..<g.c { to[ch] = 0 }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: dinp += each window's gradient, summed where windows overlap.
func col2im(_ dinp: UnsafeMutablePointer<Float>, _ dcols: UnsafePointer<Float>, _ g: ConvGeometry, _ samples: Range<Int>) {
    let span = g.k * g.c
    for n in samples {
        let image = dinp + n * g.h * g.w * g.c
        for oy in 0..<g.oh {
            for ox in 0..<g.ow {
                let row = dcols + ((n * g.oh + oy) * g.ow + ox) * g.window
                let x0 = ox * g.stride - g.padLeft
                let inside = x0 >= 0 && x0 + g.k <= g.w
                for ky in 0..<g.k {
                    let iy = oy * g.stride - g.padTop + ky
                    guard iy >= 0, iy < g.h else { continue }
                    let src = row + ky * span
                    if inside {
                        let dst = image + (iy * g.w + x0) * g.c
                        for i in 0..<span { dst[i] += src[i] }
                    } else {
                        for kx in 0..<g.k {
                            let ix = x0 + kx
                            guard ix >= 0, ix < g.w else { continue }
                            let from = src + kx * g.c, dst = image + (iy * g.w + ix) * g.c
                            for ch in 0..<g.c { dst[ch] += from[ch] }
                        }
                    }
                }
            }
        }
    }
}

/// How a convolution computes its forward pass and weight gradient (its input gradient:
/// `ConvolutionInputGradient`).
enum ConvolutionMethod {
    /// im2col, then sgemm.
    case im2col
    /// The direct kernels over a zero-padded copy of each sample.
    case direct
    /// Winograd F(2×2, 3×3): 16 products of (tiles × C) · (C × F) between additions-only
    /// transforms, 2.25 times fewer multiplications than the window's. The weight gradient
    /// stays im2col and sgemm.
    case winograd

    /// Direct for at most 16 input channels: with a window of 27 values sgemm runs at a sixth
    /// of its peak, and up to 16 channels the direct kernels outrun it; at 32 channels and more
    /// the direct forward's weights no longer fit in L1 and sgemm is ahead (measured in
    /// docs/performance.md, "Direct convolution"). Winograd takes the stride-1 3 × 3 layers that
    /// keep their size from 64 input channels: with 32 (the security network's third layer) its
    /// products, (tiles × 32) · (32 × 64), are too thin for sgemm to gain ("Winograd" there).
    static func chosen(for g: ConvGeometry) -> ConvolutionMethod {
        if g.c <= 16 { return .direct }
        return g.isWinogradShaped && g.c >= 64 ? .winograd : .im2col
    }
}

/// How a convolution computes its input's gradient.
enum ConvolutionInputGradient {
    /// The input has no gradient (an image read from the data).
    case none
    /// dcols = dout · weight, then col2im, which adds where windows overlap.
    case columns
    /// Stride 1, direct method: the forward kernel over dout padded by K − 1 − padding, with
    /// the kernel flipped and its channels and filters swapped.
    case flippedKernel
    /// Larger strides, direct method: each window's gradient (Σ over filters of dout · weight)
    /// added at its place in a padded buffer, whose inside is then the input's gradient.
    case scattered
    /// Winograd method: Winograd's convolution of dout with the kernel flipped, its channels
    /// and filters swapped.
    case winograd

    static func chosen(for g: ConvGeometry, method: ConvolutionMethod, inputHasGradient: Bool) -> Self {
        guard inputHasGradient else { return .none }
        if method == .winograd { return .winograd }
        guard method == .direct else { return .columns }
        if g.stride == 1 { return .flippedKernel }
        // Its tiles run over 16 or 8 channels; narrower inputs would leave the vectors empty.
        return g.c >= 8 ? .scattered : .columns
    }

    /// Whether it writes every element of the input's gradient (and so can assign them).
    var coversTheInput: Bool { self == .flippedKernel || self == .scattered || self == .winograd }
}

/// A Winograd convolution's work: items of whole tile rows (`ft_winograd_shape`'s numbering),
/// each on one worker with its own transformed tiles and products, and the transformed weights.
struct WinogradBuffers {
    let tilesHigh: Int, tilesWide: Int
    /// Tile rows an item takes.
    let rowsPerItem: Int
    /// Floats of one worker's transformed tiles (16 × tiles × channels), and as many for its 16
    /// products (16 × tiles × filters): sized for the larger of the two passes.
    let itemFloats: Int
    /// Per worker: an item's transformed tiles and its products, `itemFloats` each.
    let tiles: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>
    /// U (16, F, C): the forward's at each forward, the input gradient's (flipped) at each backward.
    let weights: UnsafeMutablePointer<Float>

    /// Tiles an item holds at least: each of its 16 products has that many rows.
    static let minimumTiles = 64
    /// An item's transformed tiles at most, beyond `minimumTiles`: 512 KB, half a core's L2.
    static let maximumTileFloats = 1 << 17

    static func layout(_ g: ConvGeometry, filters: Int) -> (tilesHigh: Int, tilesWide: Int, rowsPerItem: Int, itemFloats: Int) {
        let (high, wide) = (Int(ft_winograd_tiles(Int32(g.h))), Int(ft_winograd_tiles(Int32(g.w))))
        let widest = max(g.c, filters)
        let tiles = max(minimumTiles, maximumTileFloats / (16 * widest))
        let rows = max(1, (tiles + wide - 1) / wide)
        return (high, wide, rows, 16 * rows * wide * widest)
    }
}

/// The convolution runs group by group of samples, each group on one worker with its own
/// cache-sized columns: im2col, then one single-threaded sgemm (OpenBLAS runs on one thread
/// inside the workers), so the columns are written and read while they sit in L2 instead of
/// going through memory for the whole batch. Backward recomputes a group's columns rather
/// than keeping the whole batch's (at batch 1024 the first security layer's would take 450 MB).
///
/// The weight gradient of each group goes to a slot of its own; the slots are then summed in
/// group order, element ranges split across the workers, so the result does not depend on the
/// thread count. The direct method keeps its partials as (K·K·C, F), the layout its kernel
/// writes, and transposes them in that sum.
final class Conv2DOp: GradientAssigning, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter
    /// Nil for a convolution without bias (one followed by batchnorm, whose shift stands in for it).
    let bias: Parameter?
    let geometry: ConvGeometry
    let filters: Int
    /// Samples per group, and rows (output pixels) per sample.
    let groupSamples: Int, rowsPerSample: Int
    /// Per worker: one group's columns (`groupSamples × rowsPerSample × window`), reused for
    /// their gradient in backward; empty when neither pass uses them (the direct method with a
    /// direct input gradient or none).
    let columns: UnsafeMutablePointer<Float>
    /// Per group: its weight gradient (F × window) followed by its bias gradient (F, when it
    /// has a bias).
    let partials: UnsafeMutablePointer<Float>
    let method: ConvolutionMethod, inputGradient: ConvolutionInputGradient
    var assignsInputGradient = false
    var canAssignInputGradient: Bool { inputGradient.coversTheInput }
    /// Direct method only: per worker, one sample padded with zeros (`paddedSize` floats; in
    /// backward, after the weight gradient, the scattered input gradient's buffer), and the
    /// weights transposed to (K, K, C, F), refreshed at each forward.
    let padded: UnsafeMutablePointer<Float>?, transposedWeight: UnsafeMutablePointer<Float>?
    /// Flipped-kernel input gradient only: per worker, one sample's output gradient padded by
    /// K − 1 − padding (`paddedGradientSize` floats), and the weights flipped to (K, K, F, C),
    /// refreshed at each backward.
    let paddedGradient: UnsafeMutablePointer<Float>?, flippedWeight: UnsafeMutablePointer<Float>?
    /// Winograd method only: its items' buffers and transformed weights.
    let winograd: WinogradBuffers?
    private var batch = 0

    /// Columns a group keeps: about 512 KB, half of a core's L2 on the machines we measure.
    static let groupFloats = 1 << 17
    /// Output pixels a group holds at least, even when its columns outgrow `groupFloats`: a
    /// group's weight gradient is a product whose inner dimension is its pixels, written to a
    /// slot of F × K·K·C floats. With one 7 × 7 sample a group (ResNet-18's last stage) that
    /// was a 49-term product and 2.4 M floats of slot per sample, and backward took four
    /// times forward.
    static let minimumGroupRows = 128

    static func groupSamples(_ g: ConvGeometry) -> Int {
        let rows = max(1, g.oh * g.ow)
        return max(1, groupFloats / (rows * max(1, g.window)), (minimumGroupRows + rows - 1) / rows)
    }

    /// The padded sample the direct kernels read: every pixel a window reaches.
    static func paddedShape(_ g: ConvGeometry) -> (height: Int, width: Int) {
        ((g.oh - 1) * g.stride + g.k, (g.ow - 1) * g.stride + g.k)
    }

    static func paddedSize(_ g: ConvGeometry) -> Int {
        let (height, width) = paddedShape(g)
        return height * width * g.c
    }

    static func paddedGradientSize(_ g: ConvGeometry, filters: Int) -> Int { (g.h + g.k - 1) * (g.w + g.k - 1) * filters }

    init(pool: ThreadPool, input: Tensor, output: Tensor, weight: Parameter, bias: Parameter?, geometry: ConvGeometry,
         method: ConvolutionMethod, inputGradient: ConvolutionInputGradient, columns: UnsafeMutablePointer<Float>,
         partials: UnsafeMutablePointer<Float>,
         padded: UnsafeMutablePointer<Float>?, transposedWeight: UnsafeMutablePointer<Float>?,
         paddedGradient: UnsafeMutablePointer<Float>?, flippedWeight: UnsafeMutablePointer<Float>?,
         winograd: WinogradBuffers?) {
        self.pool = pool
        self.winograd = winograd
        self.method = method
        self.inputGradient = inputGradient
        self.padded = padded
        self.transposedWeight = transposedWeight
        self.paddedGradient = paddedGradient
        self.flippedWeight = flippedWeight
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.geometry = geometry
        self.columns = columns
        self.partials = partials
        filters = output.shape[2]
        groupSamples = Self.groupSamples(geometry)
        rowsPerSample = geometry.oh * geometry.ow
    }

    private var groupCost: Int { groupSamples * rowsPerSample * geometry.window * filters }
    private func groups(_ batch: Int) -> Int { (batch + groupSamples - 1) / groupSamples }
    private var partialSize: Int { filters * geometry.window + (bias == nil ? 0 : filters) }

    func forward(batch: Int, mode: PassMode) {
        self.batch = batch
        if let winograd {
            pool.parallelFor(filters, costPerItem: 100 * geometry.c, self, part: .winogradForwardWeights)
            pool.parallelFor(winogradItems(winograd), costPerItem: winogradCost(winograd), self, part: .winogradForward)
            return
        }
        if let transposedWeight {
            let window = geometry.window
            for f in 0..<filters {
                for e in 0..<window { transposedWeight[e * filters + f] = weight.value[f * window + e] }
            }
        }
        pool.parallelFor(groups(batch), costPerItem: groupCost, self, part: .forward)
    }

    func backward(batch: Int) {
        self.batch = batch
        if let flippedWeight {
            let (k, c, f) = (geometry.k, geometry.c, filters)
            for q in 0..<k {
                for r in 0..<k {
                    for j in 0..<f {
                        let (flippedRow, flippedColumn) = (k - 1 - q, k - 1 - r)
                        let from = weight.value + ((j * k + flippedRow) * k + flippedColumn) * c
                        (flippedWeight + ((q * k + r) * f + j) * c).update(from: from, count: c)
                    }
                }
            }
        }
        if let winograd, input.grad != nil {
            pool.parallelFor(filters, costPerItem: 100 * geometry.c, self, part: .winogradGradientWeights)
            pool.parallelFor(winogradItems(winograd), costPerItem: winogradCost(winograd), self,
                             part: .winogradInputGradient)
        }
        // Over groups of samples: the weight gradient, and the input's unless Winograd took it.
        if winograd == nil || !weight.frozen {
            pool.parallelFor(groups(batch), costPerItem: 2 * groupCost, self, part: .backward)
        }
        guard !weight.frozen else { return }
        pool.parallelFor(partialSize, costPerItem: groups(batch), self, part: .parameterGradients)
    }

    private func winogradItems(_ w: WinogradBuffers) -> Int {
        (batch * w.tilesHigh + w.rowsPerItem - 1) / w.rowsPerItem
    }

    private func winogradCost(_ w: WinogradBuffers) -> Int { 16 * w.rowsPerItem * w.tilesWide * geometry.c * filters }

    /// The loops the op hands the pool: forward and backward over groups of samples (backward
    /// leaves each group's weight and bias gradients in its partials), then those partials
    /// summed over groups, over a range of their elements. The Winograd method's forward and
    /// input gradient run over items of tile rows, after their weights' transform over rows
    /// of U.
    enum Part: Int {
        case forward, backward, parameterGradients
        case winogradForwardWeights, winogradForward, winogradGradientWeights, winogradInputGradient
    }

    func run(_ items: Range<Int>, part: Part, worker: Int) {
        let g = geometry, window = g.window, f = filters
        if let winograd {
            switch part {
            case .winogradForwardWeights, .winogradGradientWeights:  // items: filters
                ft_winograd_weights(weight.value, Int32(g.c), Int32(f), part == .winogradGradientWeights ? 1 : 0,
                                    Int32(items.lowerBound), Int32(items.upperBound), winograd.weights)
                return
            case .winogradForward:
                for item in items { runWinograd(item, winograd, worker: worker, gradient: false) }
                return
            case .winogradInputGradient:
                for item in items { runWinograd(item, winograd, worker: worker, gradient: true) }
                return
            case .forward, .backward, .parameterGradients: break
            }
        }
        let cols = columns + worker * groupSamples * rowsPerSample * window
        if part == .parameterGradients {
            let groupCount = groups(batch), weightSize = f * window
            for e in items {
                var sum: Float = 0
                for group in 0..<groupCount { sum += partials[group * partialSize + e] }
                if e >= weightSize {
                    bias?.grad[e - weightSize] += sum
                } else if method == .direct {
                    weight.grad[(e % f) * window + e / f] += sum  // partial (K·K·C, F) → weight (F, K·K·C)
                } else {
                    weight.grad[e] += sum
                }
            }
            return
        }
        for group in items {
            let samples = (group * groupSamples)..<min((group + 1) * groupSamples, batch)
            let rows = samples.count * rowsPerSample, first = samples.lowerBound * rowsPerSample
            let out = output.data + first * f
            if part == .forward, method == .direct {
                for n in samples {
                    let sample = padSample(n, worker: worker)
                    ft_direct_conv_forward(sample, transposedWeight, bias?.value, directShape, 0,
                                           output.data + n * rowsPerSample * f)
                }
                continue
            }
            if part == .forward {
                im2col(cols - first * window, input.data, g, samples)
                // out = bias, then += cols · weightᵀ; without a bias the product overwrites out (β = 0).
                if let bias { for r in 0..<rows { (out + r * f).update(from: bias.value, count: f) } }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(f), Int32(window),
                            1, cols, Int32(window), weight.value, Int32(window), bias == nil ? 0 : 1, out, Int32(f))
                continue
            }
            let dout = output.grad! + first * f
            if !weight.frozen, method == .direct {
                let slot = partials + group * partialSize
                for n in samples {
                    let sample = padSample(n, worker: worker)
                    ft_direct_conv_weight_gradient(sample, dout + (n - samples.lowerBound) * rowsPerSample * f, directShape,
                                                   n == samples.lowerBound ? 0 : 1, slot)
                }
                if bias != nil { sumBiasGradient(dout, rows: rows, into: slot + f * window) }
            } else if !weight.frozen {
                // This group's dweight (F, KKC) = doutᵀ (F, rows) · cols (rows, KKC), and dbias
                // (F) = Σ over rows of dout when there is a bias.
                im2col(cols - first * window, input.data, g, samples)
                let slot = partials + group * partialSize
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(f), Int32(window), Int32(rows),
                            1, dout, Int32(f), cols, Int32(window), 0, slot, Int32(window))
                if bias != nil { sumBiasGradient(dout, rows: rows, into: slot + f * window) }
            }
            guard let dinp = input.grad, inputGradient != .winograd else { continue }
            if let paddedGradient, let flippedWeight {
                // dinp (H, W, C) += the convolution of dout padded by K − 1 − padding with the
                // flipped kernel, whose K·K·F window element (q, r, j) weighs filter j at (K−1−q, K−1−r).
                let sample = paddedGradient + worker * Self.paddedGradientSize(g, filters: f)
                let shape = ft_direct_conv_shape(padded_width: Int32(g.w + g.k - 1), channels: Int32(f),
                                                 kernel: Int32(g.k), stride: 1, out_height: Int32(g.h),
                                                 out_width: Int32(g.w), filters: Int32(g.c))
                for n in samples {
                    ft_direct_conv_pad(dout + (n - samples.lowerBound) * rowsPerSample * f, Int32(g.oh), Int32(g.ow),
                                       Int32(f), Int32(g.k - 1 - g.padTop), Int32(g.k - 1 - g.padLeft),
                                       Int32(g.h + g.k - 1), Int32(g.w + g.k - 1), sample)
                    ft_direct_conv_forward(sample, flippedWeight, nil, shape, assignsInputGradient ? 0 : 1,
                                           dinp + n * g.h * g.w * g.c)
                }
                continue
            }
            if inputGradient == .scattered {
                let (height, width) = Self.paddedShape(g), size = Self.paddedSize(g)
                let buffer = padded! + worker * size
                for n in samples {
                    buffer.update(repeating: 0, count: size)
                    ft_direct_conv_input_gradient(dout + (n - samples.lowerBound) * rowsPerSample * f, weight.value,
                                                  directShape, buffer)
                    ft_direct_conv_unpad(buffer, Int32(height), Int32(width), Int32(g.c), Int32(g.padTop),
                                         Int32(g.padLeft), Int32(g.h), Int32(g.w), assignsInputGradient ? 0 : 1,
                                         dinp + n * g.h * g.w * g.c)
                }
                continue
            }
            // dcols (rows, KKC) = dout (rows, F) · weight (F, KKC), then scattered back.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(window), Int32(f),
                        1, dout, Int32(f), weight.value, Int32(window), 0, cols, Int32(window))
            col2im(dinp, cols - first * window, g, samples)
        }
    }

    /// One item of tile rows through Winograd: the forward (input → output, plus the bias), or
    /// the input's gradient (dout → dinp, written or added).
    private func runWinograd(_ item: Int, _ w: WinogradBuffers, worker: Int, gradient: Bool) {
        let g = geometry
        let first = item * w.rowsPerItem, end = min(first + w.rowsPerItem, batch * w.tilesHigh)
        let tiles = (end - first) * w.tilesWide
        let (inChannels, outChannels) = gradient ? (filters, g.c) : (g.c, filters)
        let transformed = w.tiles + worker * w.itemFloats, products = w.products + worker * w.itemFloats
        let source = gradient ? output.grad! : input.data
        ft_winograd_input_transform(source, ft_winograd_shape(height: Int32(g.h), width: Int32(g.w),
                                                              channels: Int32(inChannels)),
                                    Int32(first), Int32(end), transformed)
        for position in 0..<16 {
            // M[ξ] (tiles, out) = V[ξ] (tiles, in) · U[ξ] (F, C): transposed in the forward.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, gradient ? CblasNoTrans : CblasTrans, Int32(tiles),
                        Int32(outChannels), Int32(inChannels),
                        1, transformed + position * tiles * inChannels, Int32(inChannels),
                        w.weights + position * g.c * filters, Int32(g.c),
                        0, products + position * tiles * outChannels, Int32(outChannels))
        }
        let shape = ft_winograd_shape(height: Int32(g.h), width: Int32(g.w), channels: Int32(outChannels))
        if gradient {
            ft_winograd_output_transform(products, shape, nil, Int32(first), Int32(end), assignsInputGradient ? 0 : 1,
                                         input.grad!)
        } else {
            ft_winograd_output_transform(products, shape, bias?.value, Int32(first), Int32(end), 0, output.data)
        }
    }

    /// dbias (F) = Σ over a group's rows of dout.
    private func sumBiasGradient(_ dout: UnsafePointer<Float>, rows: Int, into dbias: UnsafeMutablePointer<Float>) {
        dbias.update(repeating: 0, count: filters)
        for r in 0..<rows {
            let d = dout + r * filters
            for j in 0..<filters { dbias[j] += d[j] }
        }
    }

    /// Sample `n` copied into the worker's padded buffer (direct method).
    private func padSample(_ n: Int, worker: Int) -> UnsafeMutablePointer<Float> {
        let g = geometry, (height, width) = Self.paddedShape(g)
        let sample = padded! + worker * Self.paddedSize(g)
        ft_direct_conv_pad(input.data + n * g.h * g.w * g.c, Int32(g.h), Int32(g.w), Int32(g.c), Int32(g.padTop),
                           Int32(g.padLeft), Int32(height), Int32(width), sample)
        return sample
    }

    private var directShape: ft_direct_conv_shape {
        let g = geometry
        return ft_direct_conv_shape(padded_width: Int32(Self.paddedShape(g).width), channels: Int32(g.c),
                                    kernel: Int32(g.k), stride: Int32(g.stride), out_height: Int32(g.oh),
                                    out_width: Int32(g.ow), filters: Int32(filters))
    }

    func flops(batch: Int) -> Double {
        let products = Double(batch * geometry.oh * geometry.ow) * Double(geometry.window) * Double(filters)
        // Forward, the input's gradient when it has one, the weights' when they are trainable.
        let passes = Double(1 + (input.grad == nil ? 0 : 1) + (weight.frozen ? 0 : 1))
        return 2 * products * passes
    }
}

/// Convolution padding: `same` keeps ⌈size / stride⌉ (extra padding after, as TensorFlow does);
/// a number pads that many zeros on every side.
public enum ConvPadding: Sendable, Equatable {
    case same
    case zeros(Int)
}

extension PlanBuilder {
    /// A convolution named `name` (`<name>.weight`, and `<name>.bias` unless `bias` is false).
    public func conv2d(_ input: Tensor, filters: Int, kernel: Int, stride: Int = 1, padding: ConvPadding = .zeros(0),
                       bias: Bool = true, initialization: WeightScheme = .glorot, name: String) -> Tensor {
        conv2d(input, filters: filters, kernel: kernel, stride: stride, padding: padding, bias: bias,
               initialization: initialization, method: nil, name: name)
    }

    /// `method` nil chooses by the layer's shape; the tests set it to compare the two.
    func conv2d(_ input: Tensor, filters: Int, kernel: Int, stride: Int, padding: ConvPadding, bias: Bool,
                initialization: WeightScheme, method: ConvolutionMethod?, name: String) -> Tensor {
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let oh: Int, ow: Int, top: Int, left: Int
        switch padding {
        case .same:
            (oh, ow) = ((h + stride - 1) / stride, (w + stride - 1) / stride)
            top = max((oh - 1) * stride + kernel - h, 0) / 2
            left = max((ow - 1) * stride + kernel - w, 0) / 2
        case .zeros(let p):
            (oh, ow) = ((h + 2 * p - kernel) / stride + 1, (w + 2 * p - kernel) / stride + 1)
            (top, left) = (p, p)
        }
        let geometry = ConvGeometry(h: h, w: w, c: c, k: kernel, stride: stride, padTop: top, padLeft: left,
                                    oh: oh, ow: ow)
        let fanIn = geometry.window
        let weight = parameter("\(name).weight", [filters, kernel, kernel, c],
                               initialization.weight(fanIn: fanIn, fanOut: kernel * kernel * filters))
        let biasParameter = bias ? parameter("\(name).bias", [filters], initialization.bias(fanIn: fanIn)) : nil
        let output = tensor([oh, ow, filters])
        let groupSamples = Conv2DOp.groupSamples(geometry)
        let groups = (maxBatch + groupSamples - 1) / groupSamples
        let method = method ?? ConvolutionMethod.chosen(for: geometry)
        precondition(method != .winograd || geometry.isWinogradShaped, "Winograd takes stride-1 3 × 3 layers of one pixel's padding")
        let direct = method == .direct
        let inputGradient = ConvolutionInputGradient.chosen(for: geometry, method: method,
                                                            inputHasGradient: input.grad != nil)
        let flipped = inputGradient == .flippedKernel, usesColumns = !direct || inputGradient == .columns
        var winograd: WinogradBuffers?
        if method == .winograd {
            let layout = WinogradBuffers.layout(geometry, filters: filters)
            winograd = WinogradBuffers(tilesHigh: layout.tilesHigh, tilesWide: layout.tilesWide,
                                       rowsPerItem: layout.rowsPerItem, itemFloats: layout.itemFloats,
                                       tiles: scratch(pool.threads * layout.itemFloats),
                                       products: scratch(pool.threads * layout.itemFloats),
                                       weights: scratch(16 * c * filters))
        }
        add(Conv2DOp(pool: pool, input: input, output: output, weight: weight, bias: biasParameter, geometry: geometry,
                     method: method, inputGradient: inputGradient,
                     columns: scratch(usesColumns ? pool.threads * groupSamples * oh * ow * geometry.window : 0),
                     partials: scratch(groups * (filters * geometry.window + (bias ? filters : 0))),
                     padded: direct ? scratch(pool.threads * Conv2DOp.paddedSize(geometry)) : nil,
                     transposedWeight: direct ? scratch(filters * geometry.window) : nil,
                     paddedGradient: flipped ? scratch(pool.threads * Conv2DOp.paddedGradientSize(geometry, filters: filters)) : nil,
                     flippedWeight: flipped ? scratch(filters * geometry.window) : nil, winograd: winograd))
        return output
    }
}
