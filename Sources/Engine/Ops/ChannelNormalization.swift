/// Fixed per-channel standardisation of an NHWC image (`normalize:` of an image input):
/// out = (inp − mean[c]) / std[c], what torchvision's `Normalize` does to the tensors a
/// pretrained backbone was trained on; dinp += dout / std[c]. Nothing is learned.
final class ChannelNormalizationOp: Op {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let mean: [Float], std: [Float]

    init(input: Tensor, output: Tensor, mean: [Float], std: [Float]) {
        self.input = input
        self.output = output
        self.mean = mean
        self.std = std
    }

    func forward(batch: Int, mode: PassMode) {
        let c = mean.count, pixels = batch * input.sampleSize / c
        let x = input.data, out = output.data
        for p in 0..<pixels {
            for j in 0..<c { out[p * c + j] = (x[p * c + j] - mean[j]) / std[j] }
        }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad, let dout = output.grad else { return }
        let c = mean.count, pixels = batch * input.sampleSize / c
        for p in 0..<pixels {
            for j in 0..<c { dinp[p * c + j] += dout[p * c + j] / std[j] }
        }
    }
}

extension PlanBuilder {
    /// `(input − mean) / std` per channel (the last axis) of an image. The output has a
    /// gradient only when the input has one: an image from the data has none, so a frozen
    /// branch on it runs forward only and a first convolution computes no input gradient.
    public func channelNormalization(_ input: Tensor, mean: [Float], std: [Float]) -> Tensor {
        precondition(mean.count == input.shape.last && std.count == mean.count)
        let output = tensor(input.shape, gradient: input.grad != nil)
        add(ChannelNormalizationOp(input: input, output: output, mean: mean, std: std))
        return output
    }
}
