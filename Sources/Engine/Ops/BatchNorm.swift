import ConvolutionKernels

/// Batch normalisation over the last axis (channels of an NHWC image, features of a vector):
/// in training, statistics of the batch (all samples and positions) normalise it and update
/// the running statistics; in evaluation the running statistics do. In a frozen branch the
/// layer evaluates in training too: frozen means nothing in it changes, its running statistics
/// included (a pretrained backbone keeps the statistics it was trained with, as
/// `backbone.eval()` keeps them in PyTorch).
///
/// Training backward, with N rows, x̂ the normalised input and g = dout · weight:
/// dinp += rstd / N · (N·g − Σg − x̂ · Σ(g·x̂)); dweight += Σ dout·x̂; dbias += Σ dout.
///
/// With `fusedReLU` the op's output is relu(y): the ReLU is applied as y is written, and
/// backward takes dout · (output > 0) wherever it reads dout, as a separate ReLU's backward
/// would give it (the same arithmetic, so the same bits), without that op's passes over memory.
/// With `maxPoolWidth` as well, a 2 × 2 max pooling at stride 2 follows the ReLU inside the op
/// and the output is the pooled image (BatchNorm+MaxPool.swift): the full-size normalised image
/// is never written nor read back.
///
/// Rows are contiguous runs of C channels, so every loop runs over channels innermost (it
/// vectorises). Sums over rows are taken per block of `blockRows` rows, the blocks spread over
/// the pool, then added in block order: the blocks do not depend on the thread count, so
/// neither do the results. The sums are kept in double, as PyTorch's CPU kernels keep them:
/// Σdout over a 64×64 image batch cancels to a small fraction of its terms in some channels,
/// and float sums then lost percents of the first layers' gradients.
///
/// Forward's statistics come from one pass: Σ(x − k) and Σ(x − k)² about k = the running mean,
/// so mean = k + Σ(x − k)/N and variance = Σ(x − k)²/N − (Σ(x − k)/N)². After the first steps k
/// lies near the batch's mean and the difference hardly cancels; at the first (k = 0) doubles
/// keep the variance to float precision unless |mean| / std is above about 10³. A pass of its
/// own for Σ(x − mean)² cost 1–2% of the security network's step and, with the batch in parts,
/// a second meeting of the parts per layer.
///
/// With the batch split into parts (`BatchParts`, data-parallel training), training uses the
/// whole batch's statistics, as synchronised batchnorm does: forward sums the rows, Σ(x − k) and
/// Σ(x − k)² over the parts (every part holds the same running mean), and backward Σdout and
/// Σdout·x̂ for the input's gradient, so every part normalises alike and keeps the same running
/// statistics. The weight's and bias's gradients stay this part's sums: the gradient reduction
/// adds the parts'.
final class BatchNormOp: SplitBatchOp, GradientAssigning, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter, bias: Parameter
    let runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>
    /// Per channel: the mean and 1/√(variance + ε) used by the last forward pass, the scale and
    /// shift it applied (y = x · scale + shift), and sums.
    let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    let scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>
    let sumA: UnsafeMutablePointer<Float>, sumB: UnsafeMutablePointer<Float>
    /// Per block of rows: its two partial sums per channel; and their totals.
    let partials: UnsafeMutablePointer<Double>
    let totals: UnsafeMutablePointer<Double>
    let channels: Int, positions: Int
    let fusedReLU: Bool
    /// The image's width when a 2 × 2 max pooling follows the ReLU in the op; then, per pooled
    /// value of the last forward pass, its window's pixel (0…3) that held the maximum and that
    /// pixel's input.
    let maxPoolWidth: Int?
    let maxPosition: UnsafeMutablePointer<Float>, maxInput: UnsafeMutablePointer<Float>
    var assignsInputGradient = false
    private var rows = 0
    /// Rows of the whole batch in the last training pass: this part's, or every part's together.
    private var batchRows = 0
    var parts: (any BatchParts)?
    static let blockRows = 512
    let momentum: Float, epsilon: Float
    private var lastMode = PassMode.evaluation

    init(pool: ThreadPool, input: Tensor, output: Tensor, weight: Parameter, bias: Parameter, runningMean: UnsafeMutablePointer<Float>,
         runningVariance: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
         partials: UnsafeMutablePointer<Double>, totals: UnsafeMutablePointer<Double>, momentum: Float, epsilon: Float,
         fusedReLU: Bool, maxPoolWidth: Int?, maxPosition: UnsafeMutablePointer<Float>,
         maxInput: UnsafeMutablePointer<Float>) {
        self.pool = pool
        self.fusedReLU = fusedReLU
        self.maxPoolWidth = maxPoolWidth
        self.maxPosition = maxPosition
        self.maxInput = maxInput
        self.partials = partials
        self.totals = totals
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.runningMean = runningMean
        self.runningVariance = runningVariance
        channels = input.shape.last!
        positions = input.sampleSize / channels
        mean = scratch
        rstd = scratch + channels
        scale = scratch + 2 * channels
        shift = scratch + 3 * channels
        sumA = scratch + 4 * channels
        sumB = scratch + 5 * channels
        self.momentum = momentum
        self.epsilon = epsilon
    }

    func forward(batch: Int, mode: PassMode) {
        let mode = weight.frozen ? .evaluation : mode
        lastMode = mode
        let c = channels, rows = batch * positions
        let mean = self.mean, rstd = self.rstd, totals = self.totals
        self.rows = rows
        if mode == .training {
            for j in 0..<c { mean[j] = runningMean[j] }  // k, the sums' centre
            blockSums(.centeredSums)
            var n = rows
            if let parts {
                // The rows' count rides with the sums: one call.
                totals[2 * c] = Double(rows)
                parts.sum(totals, count: 2 * c + 1)
                n = Int(totals[2 * c])
            }
            batchRows = n
            for j in 0..<c {
                let offset = totals[j] / Double(n)
                let variance = max(totals[c + j] / Double(n) - offset * offset, 0)
                let unbiased = n > 1 ? variance * Double(n) / Double(n - 1) : variance
                mean[j] = Float(Double(mean[j]) + offset)
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * Float(unbiased)
                rstd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
            }
        } else {
            for j in 0..<c {
                mean[j] = runningMean[j]
                rstd[j] = 1 / (runningVariance[j] + epsilon).squareRoot()
            }
        }
        // y = x · scale + shift with scale = rstd·w and shift = b − mean·scale, per channel.
        let scale = self.scale, shift = self.shift, w = weight.value!, b = bias.value!
        for j in 0..<c {
            scale[j] = rstd[j] * w[j]
            shift[j] = b[j] - mean[j] * scale[j]
        }
        if let width = maxPoolWidth {
            pool.parallelFor(rows / (2 * width), costPerItem: 2 * width * c, self, part: .normalizeAndPool)
        } else {
            pool.parallelFor(rows, costPerItem: c, self, part: .normalize)
        }
    }

    func backward(batch: Int) {
        let c = channels, rows = batch * positions
        // Σ dout and Σ dout·x̂ per channel: the bias and weight gradients, and (times w) the
        // sums the input gradient needs.
        let sumD = sumA, sumDX = sumB
        self.rows = rows
        blockSums(maxPoolWidth == nil ? .sumsOfOutputGradient : .pooledSumsOfOutputGradient)
        for j in 0..<c { (sumD[j], sumDX[j]) = (Float(totals[j]), Float(totals[c + j])) }
        if !weight.frozen {
            let dw = weight.grad!, db = bias.grad!
            for j in 0..<c {
                dw[j] += sumDX[j]
                db[j] += sumD[j]
            }
        }
        guard input.grad != nil else { return }
        if lastMode == .training {
            if let parts {
                // The input's gradient takes the whole batch's sums (its weight's took this part's).
                parts.sum(totals, count: 2 * c)
                for j in 0..<c { (sumD[j], sumDX[j]) = (Float(totals[j]), Float(totals[c + j])) }
            }
            // dinp = w·rstd · (dout − Σdout/N − x̂ · Σ(dout·x̂)/N), the formula above with g = dout·w.
            let n = Float(batchRows)
            for j in 0..<c {
                sumD[j] /= n
                sumDX[j] /= n
            }
            inputGradient(.trainingInputGradient)
        } else {
            inputGradient(.evaluationInputGradient)
        }
    }

    /// The input's gradient over every row, or window row when pooled.
    private func inputGradient(_ part: Part) {
        let c = channels
        if let width = maxPoolWidth {
            pool.parallelFor(rows / (2 * width), costPerItem: 2 * width * c, self,
                             part: part == .trainingInputGradient ? .pooledTrainingInputGradient
                                                                  : .pooledEvaluationInputGradient)
        } else {
            pool.parallelFor(rows, costPerItem: c, self, part: part)
        }
    }

    /// The loops the op hands the pool: over rows, forward's normalisation and the input's
    /// gradient in training mode (batch statistics) or evaluation mode (running statistics);
    /// over blocks of rows, each block's partial per-channel sums. The pooled ones run over
    /// window rows (BatchNorm+MaxPool.swift), the sums' blocks being those rows too.
    enum Part: Int {
        case normalize, trainingInputGradient, evaluationInputGradient
        /// Σ(x − k) with Σ(x − k)², and Σdout with Σdout·x̂.
        case centeredSums, sumsOfOutputGradient
        case normalizeAndPool, pooledSumsOfOutputGradient, pooledTrainingInputGradient, pooledEvaluationInputGradient
    }

    /// Per-channel sums over all rows (`part` says which), block by block in parallel, then
    /// the blocks added in order.
    /// Into `totals`: the first sum per channel, then the second (Σdout·x̂) where there is one.
    private func blockSums(_ part: Part) {
        let c = channels
        var blocks = (rows + Self.blockRows - 1) / Self.blockRows
        if part == .pooledSumsOfOutputGradient, let width = maxPoolWidth { blocks = rows / (2 * width) }
        pool.parallelFor(blocks, costPerItem: Self.blockRows * c, self, part: part)
        totals.update(repeating: 0, count: 2 * c)
        for block in 0..<blocks {
            let slot = partials + block * 2 * c
            for j in 0..<(2 * c) { totals[j] += slot[j] }
        }
    }

    /// Over a range of rows (`sumA`/`sumB` hold what the part needs per channel), or of blocks
    /// for the sums, each block writing its partial sums.
    func run(_ rows: Range<Int>, part: Part, worker: Int) {
        let c = channels, x = input.data, mean = self.mean, rstd = self.rstd, a = sumA, b = sumB
        switch part {
        case .normalizeAndPool, .pooledSumsOfOutputGradient, .pooledTrainingInputGradient, .pooledEvaluationInputGradient:
            runPooled(rows, part: part)
        case .centeredSums, .sumsOfOutputGradient:
            for block in rows {
                let slot = partials + block * 2 * c, other = slot + c
                for j in 0..<(2 * c) { slot[j] = 0 }
                let start = block * Self.blockRows, end = min(start + Self.blockRows, self.rows)
                // C kernels (BatchNormSums.c): the same sums on AVX2.
                if part == .centeredSums {
                    ft_batchnorm_centered_sums(x + start * c, Int32(end - start), Int32(c), mean, slot, other)
                } else {
                    ft_batchnorm_gradient_sums(x + start * c, output.grad! + start * c, fusedReLU ? output.data + start * c : nil,
                                               Int32(end - start), Int32(c), mean, rstd, slot, other)
                }
            }
        case .normalize:
            let y = output.data, scale = self.scale, shift = self.shift
            for r in rows {
                let row = x + r * c, out = y + r * c
                if fusedReLU {
                    for j in 0..<c {
                        let value = row[j] * scale[j] + shift[j]
                        out[j] = value > 0 ? value : 0
                    }
                } else {
                    for j in 0..<c { out[j] = row[j] * scale[j] + shift[j] }
                }
            }
        case .trainingInputGradient:
            let dout = output.grad!, dinp = input.grad!, w = weight.value!, y = output.data
            for r in rows {
                let row = x + r * c, d = dout + r * c, di = dinp + r * c, out = y + r * c
                // Separate loops rather than tests inside one: each stays a plain vector loop.
                switch (assignsInputGradient, fusedReLU) {
                case (true, false):
                    for j in 0..<c { di[j] = w[j] * rstd[j] * (d[j] - a[j] - (row[j] - mean[j]) * rstd[j] * b[j]) }
                case (false, false):
                    for j in 0..<c { di[j] += w[j] * rstd[j] * (d[j] - a[j] - (row[j] - mean[j]) * rstd[j] * b[j]) }
                case (true, true):
                    for j in 0..<c {
                        let g = d[j] * (out[j] > 0 ? 1 : 0)
                        di[j] = w[j] * rstd[j] * (g - a[j] - (row[j] - mean[j]) * rstd[j] * b[j])
                    }
                case (false, true):
                    for j in 0..<c {
                        let g = d[j] * (out[j] > 0 ? 1 : 0)
                        di[j] += w[j] * rstd[j] * (g - a[j] - (row[j] - mean[j]) * rstd[j] * b[j])
                    }
                }
            }
        case .evaluationInputGradient:
            let dout = output.grad!, dinp = input.grad!, w = weight.value!, y = output.data
            for r in rows {
                let d = dout + r * c, di = dinp + r * c, out = y + r * c
                switch (assignsInputGradient, fusedReLU) {
                case (true, false): for j in 0..<c { di[j] = d[j] * w[j] * rstd[j] }
                case (false, false): for j in 0..<c { di[j] += d[j] * w[j] * rstd[j] }
                case (true, true): for j in 0..<c { di[j] = d[j] * (out[j] > 0 ? 1 : 0) * w[j] * rstd[j] }
                case (false, true): for j in 0..<c { di[j] += d[j] * (out[j] > 0 ? 1 : 0) * w[j] * rstd[j] }
                }
            }
        }
    }

    func flops(batch: Int) -> Double { Double(batch * input.sampleSize) * 20 }
}

extension PlanBuilder {
    /// `relu` applies a ReLU to the output inside the op (`BatchNormOp.fusedReLU`).
    public func batchNorm(_ input: Tensor, momentum: Float = 0.1, epsilon: Float = 1e-5, relu: Bool = false,
                          name: String) -> Tensor {
        batchNorm(input, momentum: momentum, epsilon: epsilon, relu: relu, maxPool: false, name: name)
    }

    /// Batchnorm, ReLU and 2 × 2 max pooling at stride 2 as one op, the same computation as the
    /// three in a row, for an image of even height and width.
    public func batchNormReLUMaxPool(_ input: Tensor, momentum: Float = 0.1, epsilon: Float = 1e-5,
                                     name: String) -> Tensor {
        precondition(input.shape.count == 3 && input.shape[0] % 2 == 0 && input.shape[1] % 2 == 0,
                     "2 × 2 windows must tile the image")
        return batchNorm(input, momentum: momentum, epsilon: epsilon, relu: true, maxPool: true, name: name)
    }

    private func batchNorm(_ input: Tensor, momentum: Float, epsilon: Float, relu: Bool, maxPool: Bool,
                           name: String) -> Tensor {
        let c = input.shape.last!
        let weight = parameter("\(name).weight", [c], .constant(1))
        let bias = parameter("\(name).bias", [c], .constant(0))
        let runningMean = stateTensor("\(name).running_mean", [c], initial: 0)
        let runningVariance = stateTensor("\(name).running_var", [c], initial: 1)
        let output = tensor(maxPool ? [input.shape[0] / 2, input.shape[1] / 2, c] : input.shape)
        let rows = maxBatch * input.sampleSize / c
        // The blocks of rows of the sums, or the rows of windows when pooled.
        let blocks = max((rows + BatchNormOp.blockRows - 1) / BatchNormOp.blockRows, maxPool ? rows / (2 * input.shape[1]) : 0)
        add(BatchNormOp(pool: pool, input: input, output: output, weight: weight, bias: bias, runningMean: runningMean,
                        runningVariance: runningVariance, scratch: scratch(6 * c), partials: arena.doubles(2 * c * blocks),
                        totals: arena.doubles(2 * c + 1), momentum: momentum, epsilon: epsilon, fusedReLU: relu,
                        maxPoolWidth: maxPool ? input.shape[1] : nil,
                        maxPosition: arena.floats(maxPool ? maxBatch * output.sampleSize : 0),
                        maxInput: arena.floats(maxPool ? maxBatch * output.sampleSize : 0)))
        return output
    }
}
