import CBLAS

// 2-D convolution on NHWC images as one im2col and one sgemm over the whole batch.
// Weights are (F, K, K, C): each filter is a row of K·K·C values in the order im2col writes
// a window, so out (rows, F) = cols (rows, K·K·C) · weightᵀ with the transpose flag, no copy.

/// Geometry of a convolution: input H × W × C, K × K kernel, stride, padding before each axis.
struct ConvGeometry {
    var h, w, c, k, stride, padTop, padLeft, oh, ow: Int
    var window: Int { k * k * c }
}

/// cols (B·OH·OW, K·K·C): each row one window of the input, zeros where it hangs over the edge.
func im2col(_ cols: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ g: ConvGeometry, _ samples: Range<Int>) {
    for n in samples {
        let image = inp + n * g.h * g.w * g.c
        for oy in 0..<g.oh {
            for ox in 0..<g.ow {
                let row = cols + ((n * g.oh + oy) * g.ow + ox) * g.window
                for ky in 0..<g.k {
                    let iy = oy * g.stride - g.padTop + ky
                    for kx in 0..<g.k {
                        let ix = ox * g.stride - g.padLeft + kx
                        let dst = row + (ky * g.k + kx) * g.c
                        if iy >= 0, iy < g.h, ix >= 0, ix < g.w {
                            dst.update(from: image + (iy * g.w + ix) * g.c, count: g.c)
                        } else {
                            dst.update(repeating: 0, count: g.c)
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: dinp += each window's gradient, summed where windows overlap.
func col2im(_ dinp: UnsafeMutablePointer<Float>, _ dcols: UnsafePointer<Float>, _ g: ConvGeometry, _ samples: Range<Int>) {
    for n in samples {
        let image = dinp + n * g.h * g.w * g.c
        for oy in 0..<g.oh {
            for ox in 0..<g.ow {
                let row = dcols + ((n * g.oh + oy) * g.ow + ox) * g.window
                for ky in 0..<g.k {
                    let iy = oy * g.stride - g.padTop + ky
                    guard iy >= 0, iy < g.h else { continue }
                    for kx in 0..<g.k {
                        let ix = ox * g.stride - g.padLeft + kx
                        guard ix >= 0, ix < g.w else { continue }
                        let src = row + (ky * g.k + kx) * g.c, dst = image + (iy * g.w + ix) * g.c
                        for ch in 0..<g.c { dst[ch] += src[ch] }
                    }
                }
            }
        }
    }
}

final class Conv2DOp: Op, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    let weight: Parameter, bias: Parameter
    let geometry: ConvGeometry
    let filters: Int
    /// im2col's columns in forward; reused for their gradient in backward, after dweight.
    let cols: UnsafeMutablePointer<Float>

    init(pool: ThreadPool, input: Tensor, output: Tensor, weight: Parameter, bias: Parameter, geometry: ConvGeometry,
         cols: UnsafeMutablePointer<Float>) {
        self.pool = pool
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.geometry = geometry
        self.cols = cols
        filters = output.shape[2]
    }

    func forward(batch: Int, mode: PassMode) {
        let g = geometry, rows = batch * g.oh * g.ow
        pool.parallelFor(batch, costPerItem: g.oh * g.ow * g.window, self, part: 0)
        for r in 0..<rows { (output.data + r * filters).update(from: bias.value, count: filters) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(filters), Int32(g.window),
                    1, cols, Int32(g.window), weight.value, Int32(g.window), 1, output.data, Int32(filters))
    }

    func backward(batch: Int) {
        let g = geometry, rows = batch * g.oh * g.ow, dout = output.grad!
        if !weight.frozen {
            // dweight (F, KKC) += doutᵀ (F, rows) · cols (rows, KKC)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(filters), Int32(g.window), Int32(rows),
                        1, dout, Int32(filters), cols, Int32(g.window), 1, weight.grad, Int32(g.window))
            for r in 0..<rows {
                let d = dout + r * filters
                for f in 0..<filters { bias.grad[f] += d[f] }
            }
        }
        guard input.grad != nil else { return }
        // dcols (rows, KKC) = dout (rows, F) · weight (F, KKC), written over the columns.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(g.window), Int32(filters),
                    1, dout, Int32(filters), weight.value, Int32(g.window), 0, cols, Int32(g.window))
        pool.parallelFor(batch, costPerItem: g.oh * g.ow * g.window, self, part: 1)
    }

    /// Over a range of samples: part 0 is im2col (forward), part 1 col2im (backward).
    func run(_ samples: Range<Int>, part: Int) {
        if part == 0 {
            im2col(cols, input.data, geometry, samples)
        } else {
            col2im(input.grad!, cols, geometry, samples)
        }
    }

    func flops(batch: Int) -> Double {
        let products = Double(batch * geometry.oh * geometry.ow) * Double(geometry.window) * Double(filters)
        return 2 * products * (input.grad == nil ? 2 : 3)
    }
}

/// Convolution padding: `same` keeps ⌈size / stride⌉ (extra padding after, as TensorFlow does);
/// a number pads that many zeros on every side.
public enum ConvPadding: Sendable, Equatable {
    case same
    case zeros(Int)
}

extension PlanBuilder {
    public func conv2d(_ input: Tensor, filters: Int, kernel: Int, stride: Int = 1, padding: ConvPadding = .zeros(0),
                       forReLU: Bool = false, name: String) -> Tensor {
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
                               forReLU ? .he(fanIn: fanIn) : .glorot(fanIn: fanIn, fanOut: kernel * kernel * filters))
        let bias = parameter("\(name).bias", [filters], .constant(0))
        let output = tensor([oh, ow, filters])
        add(Conv2DOp(pool: pool, input: input, output: output, weight: weight, bias: bias, geometry: geometry,
                     cols: scratch(maxBatch * oh * ow * geometry.window)))
        return output
    }
}
