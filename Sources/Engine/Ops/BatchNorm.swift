/// Batch normalisation over the last axis (channels of an NHWC image, features of a vector):
/// in training, statistics of the batch (all samples and positions) normalise it and update
/// the running statistics; in evaluation the running statistics do.
///
/// Training backward, with N rows, x̂ the normalised input and g = dout · weight:
/// dinp += rstd / N · (N·g − Σg − x̂ · Σ(g·x̂)); dweight += Σ dout·x̂; dbias += Σ dout.
final class BatchNormOp: Op {
    let input: Tensor, output: Tensor
    let weight: Parameter, bias: Parameter
    let runningMean: UnsafeMutablePointer<Float>, runningVariance: UnsafeMutablePointer<Float>
    /// Per channel: the mean and 1/√(variance + ε) used by the last forward pass.
    let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    /// Per-channel sums for backward.
    let sumG: UnsafeMutablePointer<Float>, sumGX: UnsafeMutablePointer<Float>
    let channels: Int, positions: Int
    let momentum: Float, epsilon: Float
    private var lastMode = PassMode.evaluation

    init(input: Tensor, output: Tensor, weight: Parameter, bias: Parameter, runningMean: UnsafeMutablePointer<Float>,
         runningVariance: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, momentum: Float,
         epsilon: Float) {
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
        sumG = scratch + 2 * channels
        sumGX = scratch + 3 * channels
        self.momentum = momentum
        self.epsilon = epsilon
    }

    func forward(batch: Int, mode: PassMode) {
        lastMode = mode
        let c = channels, rows = batch * positions
        let x = input.data, y = output.data
        if mode == .training {
            mean.update(repeating: 0, count: c)
            rstd.update(repeating: 0, count: c)
            for r in 0..<rows {
                for j in 0..<c { mean[j] += x[r * c + j] }
            }
            for j in 0..<c { mean[j] /= Float(rows) }
            for r in 0..<rows {
                for j in 0..<c {
                    let d = x[r * c + j] - mean[j]
                    rstd[j] += d * d  // the variance sum, for now
                }
            }
            for j in 0..<c {
                let variance = rstd[j] / Float(rows)
                let unbiased = rows > 1 ? rstd[j] / Float(rows - 1) : variance
                runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
                runningVariance[j] = (1 - momentum) * runningVariance[j] + momentum * unbiased
                rstd[j] = 1 / (variance + epsilon).squareRoot()
            }
        } else {
            for j in 0..<c {
                mean[j] = runningMean[j]
                rstd[j] = 1 / (runningVariance[j] + epsilon).squareRoot()
            }
        }
        let w = weight.value!, b = bias.value!
        for r in 0..<rows {
            for j in 0..<c { y[r * c + j] = (x[r * c + j] - mean[j]) * rstd[j] * w[j] + b[j] }
        }
    }

    func backward(batch: Int) {
        let c = channels, rows = batch * positions
        let x = input.data, dout = output.grad!, w = weight.value!
        sumG.update(repeating: 0, count: c)
        sumGX.update(repeating: 0, count: c)
        for r in 0..<rows {
            for j in 0..<c {
                let xhat = (x[r * c + j] - mean[j]) * rstd[j]
                let g = dout[r * c + j] * w[j]
                sumG[j] += g
                sumGX[j] += g * xhat
            }
        }
        if !weight.frozen {
            // Σ dout·x̂ = Σ(g·x̂) / w and Σ dout = Σ g / w would divide by w; sum directly instead.
            for r in 0..<rows {
                for j in 0..<c {
                    let d = dout[r * c + j]
                    weight.grad[j] += d * (x[r * c + j] - mean[j]) * rstd[j]
                    bias.grad[j] += d
                }
            }
        }
        guard let dinp = input.grad else { return }
        if lastMode == .training {
            let n = Float(rows)
            for r in 0..<rows {
                for j in 0..<c {
                    let xhat = (x[r * c + j] - mean[j]) * rstd[j]
                    let g = dout[r * c + j] * w[j]
                    dinp[r * c + j] += rstd[j] / n * (n * g - sumG[j] - xhat * sumGX[j])
                }
            }
        } else {
            for r in 0..<rows {
                for j in 0..<c { dinp[r * c + j] += dout[r * c + j] * w[j] * rstd[j] }
            }
        }
    }

    func flops(batch: Int) -> Double { Double(batch * input.sampleSize) * 20 }
}

extension PlanBuilder {
    public func batchNorm(_ input: Tensor, momentum: Float = 0.1, epsilon: Float = 1e-5, name: String) -> Tensor {
        let c = input.shape.last!
        let weight = parameter("\(name).weight", [c], .constant(1))
        let bias = parameter("\(name).bias", [c], .constant(0))
        let runningMean = stateTensor("\(name).running_mean", [c], initial: 0)
        let runningVariance = stateTensor("\(name).running_var", [c], initial: 1)
        let output = tensor(input.shape)
        add(BatchNormOp(input: input, output: output, weight: weight, bias: bias, runningMean: runningMean,
                        runningVariance: runningVariance, scratch: scratch(4 * c), momentum: momentum,
                        epsilon: epsilon))
        return output
    }
}
