// A same-length 1-D convolution over the positions of a sequence (N, L, C), with the padding
// mask: a padded position reads as zeros, exactly like the zeros beyond the ends, and its
// output is zero. So a text's outputs are those of the text alone, whatever L it is padded to.
//
// Tap k of position t reads position s = t + k · dilation − left, left = dilation · (K − 1) / 2
// (an even kernel reaches one further right, as PyTorch's padding="same"). Weights are
// (F, K, C), a filter a row of K·C values in the order the columns are written:
//   out[n, t, f] = keep[n, t] · (bias[f] + Σ_k Σ_c w[f, k, c] · x[n, s, c] · keep[n, s])
// computed as im2col and one sgemm over every position of the batch.

/// Where tap k of a position reads: `offset(k)` positions away.
struct Conv1DGeometry {
    let length: Int, channels: Int, kernel: Int, dilation: Int
    var window: Int { kernel * channels }
    func offset(_ k: Int) -> Int { k * dilation - dilation * (kernel - 1) / 2 }
}

/// The plain loops of the formula above: out (N, L, F). The reference the op is tested against.
func conv1dForwardReference(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ mask: SequenceMask,
                            _ g: Conv1DGeometry, filters: Int, batch: Int) {
    for n in 0..<batch {
        let keep = mask.keep(n)
        for t in 0..<g.length {
            let y = out + (n * g.length + t) * filters
            for f in 0..<filters {
                var sum = bias?[f] ?? 0
                for k in 0..<g.kernel {
                    let s = t + g.offset(k)
                    guard s >= 0, s < g.length, keep[s] != 0 else { continue }
                    for c in 0..<g.channels {
                        sum += weight[(f * g.kernel + k) * g.channels + c] * inp[(n * g.length + s) * g.channels + c]
                    }
                }
                y[f] = keep[t] * sum
            }
        }
    }
}

/// dinp += Σ over taps reaching it of wᵀ · dout, dweight += dout · x, dbias += Σ dout, all
/// over kept positions only. The plain loops, the reference for the op's backward.
func conv1dBackwardReference(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
                             _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                             _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ mask: SequenceMask,
                             _ g: Conv1DGeometry, filters: Int, batch: Int) {
    for n in 0..<batch {
        let keep = mask.keep(n)
        for t in 0..<g.length where keep[t] != 0 {
            let d = dout + (n * g.length + t) * filters
            for f in 0..<filters {
                dbias?[f] += d[f]
                for k in 0..<g.kernel {
                    let s = t + g.offset(k)
                    guard s >= 0, s < g.length, keep[s] != 0 else { continue }
                    for c in 0..<g.channels {
                        let w = (f * g.kernel + k) * g.channels + c, x = (n * g.length + s) * g.channels + c
                        dweight[w] += d[f] * inp[x]
                        dinp?[x] += d[f] * weight[w]
                    }
                }
            }
        }
    }
}

/// cols (N·L, K·C): row (n, t) holds the K positions tap k reads, zeros where a tap falls off
/// the ends or on padding, and zeros for t past the sample's extent (outputs made zero).
func sequenceIm2col(_ cols: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ mask: SequenceMask,
                    _ g: Conv1DGeometry, _ samples: Range<Int>) {
    for n in samples {
        let keep = mask.keep(n), extent = mask.extent(n)
        for t in 0..<g.length {
            let row = cols + (n * g.length + t) * g.window
            for k in 0..<g.kernel {
                let s = t + g.offset(k), to = row + k * g.channels
                if t < extent, s >= 0, s < g.length, keep[s] != 0 {
                    to.update(from: inp + (n * g.length + s) * g.channels, count: g.channels)
                } else {
                    to.update(repeating: 0, count: g.channels)
                }
            }
        }
    }
}

/// The adjoint of `sequenceIm2col`: dinp += each tap's gradient at the kept position it read.
func sequenceCol2im(_ dinp: UnsafeMutablePointer<Float>, _ dcols: UnsafePointer<Float>, _ mask: SequenceMask,
                    _ g: Conv1DGeometry, _ samples: Range<Int>) {
    for n in samples {
        let keep = mask.keep(n)
        for t in 0..<mask.extent(n) {
            let row = dcols + (n * g.length + t) * g.window
            for k in 0..<g.kernel {
                let s = t + g.offset(k)
                guard s >= 0, s < g.length, keep[s] != 0 else { continue }
                let from = row + k * g.channels, to = dinp + (n * g.length + s) * g.channels
                for c in 0..<g.channels { to[c] += from[c] }
            }
        }
    }
}

/// im2col over the whole batch into one scratch (reused for the columns' gradient), one
/// sgemm each way; the columns, the masking and col2im split over samples.
final class Conv1DOp: Op, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter, bias: Parameter?
    let mask: SequenceMask
    let geometry: Conv1DGeometry
    let filters: Int
    /// (maxBatch · L, K · C).
    let columns: UnsafeMutablePointer<Float>
    let pool: ThreadPool
    let product: MatrixProduct
    let biasGradient: BiasGradient

    init(input: Tensor, output: Tensor, weight: Parameter, bias: Parameter?, mask: SequenceMask, geometry: Conv1DGeometry,
         columns: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.mask = mask
        self.geometry = geometry
        filters = output.shape.last!
        self.columns = columns
        self.pool = pool
        product = MatrixProduct(pool: pool)
        biasGradient = BiasGradient(pool: pool)
    }

    /// out (N·L, F) = cols (N·L, K·C) · weightᵀ + bias, then padded rows zeroed.
    func forward(batch: Int, mode: PassMode) {
        let (rows, window) = (batch * geometry.length, geometry.window)
        pool.parallelFor(batch, costPerItem: geometry.length * window, self, part: .columns)
        product(transB: true, m: rows, n: filters, k: window, columns, lda: window, weight.value, ldb: window, beta: 0,
                output.data, ldc: filters, bias: bias.map { UnsafePointer($0.value) })
        pool.parallelFor(batch, costPerItem: geometry.length * filters, self, part: .maskRows)
    }

    /// dout's padded rows zeroed in place (those outputs are constants), then dbias, dweight
    /// (N·L rows of dout against the columns), dcols = dout · weight and col2im.
    func backward(batch: Int) {
        guard let dout = output.grad else { return }
        let (rows, window) = (batch * geometry.length, geometry.window)
        pool.parallelFor(batch, costPerItem: geometry.length * filters, self, part: .maskGradientRows)
        if let bias, !bias.frozen {
            biasGradient(rows: rows, columns: filters, output: output.data, gradient: dout, bias: bias.grad, relu: false)
        }
        if !weight.frozen {
            product(transA: true, m: filters, n: window, k: rows, dout, lda: filters, columns, ldb: window, beta: 1,
                    weight.grad, ldc: window)
        }
        guard input.grad != nil else { return }
        product(m: rows, n: window, k: filters, dout, lda: filters, weight.value, ldb: window, beta: 0, columns, ldc: window)
        pool.parallelFor(batch, costPerItem: geometry.length * window, self, part: .col2im)
    }

    enum Part: Int { case columns, maskRows, maskGradientRows, col2im }

    func run(_ samples: Range<Int>, part: Part, worker: Int) {
        switch part {
        case .columns: sequenceIm2col(columns, input.data, mask, geometry, samples)
        case .maskRows: zeroPaddedRows(output.data, samples)
        case .maskGradientRows: if let dout = output.grad { zeroPaddedRows(dout, samples) }
        case .col2im: if let dinp = input.grad { sequenceCol2im(dinp, columns, mask, geometry, samples) }
        }
    }

    private func zeroPaddedRows(_ values: UnsafeMutablePointer<Float>, _ samples: Range<Int>) {
        for n in samples {
            let keep = mask.keep(n)
            for t in 0..<geometry.length where keep[t] == 0 {
                (values + (n * geometry.length + t) * filters).update(repeating: 0, count: filters)
            }
        }
    }

    func flops(batch: Int) -> Double {
        let products = Double(batch * geometry.length) * Double(geometry.window) * Double(filters)
        return 2 * products * Double(1 + (input.grad == nil ? 0 : 1) + (weight.frozen ? 0 : 1))
    }
}

extension PlanBuilder {
    /// A same-length convolution of `filters` over the positions of `input` (L, C), reading
    /// padding (by `mask`) as zeros and writing zeros there.
    public func conv1d(_ input: Tensor, filters: Int, kernel: Int, dilation: Int = 1, bias: Bool = true,
                       mask: SequenceMask, initialization: WeightScheme = .torch, name: String) -> Tensor {
        let geometry = Conv1DGeometry(length: input.shape[0], channels: input.shape[1], kernel: kernel, dilation: dilation)
        let weight = parameter("\(name).weight", [filters, kernel, geometry.channels],
                               initialization.weight(fanIn: geometry.window, fanOut: kernel * filters))
        let biasParameter = bias ? parameter("\(name).bias", [filters], initialization.bias(fanIn: geometry.window)) : nil
        let output = tensor([geometry.length, filters])
        add(Conv1DOp(input: input, output: output, weight: weight, bias: biasParameter, mask: mask, geometry: geometry,
                     columns: scratch(maxBatch * geometry.length * geometry.window), pool: pool))
        return output
    }
}
