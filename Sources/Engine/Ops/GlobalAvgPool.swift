/// The mean over every position (of an image's H × W, or a sequence's T), per channel:
/// out (C) = mean over positions of inp (P, C); dinp += dout / P.
final class GlobalAvgPoolOp: Op {
    let input: Tensor, output: Tensor
    let positions: Int, channels: Int

    init(input: Tensor, output: Tensor) {
        self.input = input
        self.output = output
        channels = input.shape.last!
        positions = input.sampleSize / channels
    }

    func forward(batch: Int, mode: PassMode) {
        let scale = 1 / Float(positions)
        for n in 0..<batch {
            let inp = input.data + n * input.sampleSize, out = output.data + n * channels
            for ch in 0..<channels { out[ch] = 0 }
            for p in 0..<positions {
                for ch in 0..<channels { out[ch] += inp[p * channels + ch] }
            }
            for ch in 0..<channels { out[ch] *= scale }
        }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad else { return }
        let scale = 1 / Float(positions)
        for n in 0..<batch {
            let d = dinp + n * input.sampleSize, dout = output.grad! + n * channels
            for p in 0..<positions {
                for ch in 0..<channels { d[p * channels + ch] += dout[ch] * scale }
            }
        }
    }
}

extension PlanBuilder {
    public func globalAvgPool(_ input: Tensor) -> Tensor {
        let output = tensor([input.shape.last!])
        add(GlobalAvgPoolOp(input: input, output: output))
        return output
    }
}
