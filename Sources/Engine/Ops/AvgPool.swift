/// Average pooling over size × size windows of an NHWC image, no padding:
/// out = mean of the window; backward spreads dout / size² over it.
final class AvgPoolOp: Op {
    let input: Tensor, output: Tensor
    let size: Int, stride: Int
    let w: Int, c: Int, oh: Int, ow: Int

    init(input: Tensor, output: Tensor, size: Int, stride: Int) {
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        (w, c) = (input.shape[1], input.shape[2])
        (oh, ow) = (output.shape[0], output.shape[1])
    }

    func forward(batch: Int, mode: PassMode) {
        let scale = 1 / Float(size * size)
        for n in 0..<batch {
            let inp = input.data + n * input.sampleSize, out = output.data + n * output.sampleSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let o = out + (oy * ow + ox) * c
                    for ch in 0..<c { o[ch] = 0 }
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let i = inp + ((oy * stride + ky) * w + (ox * stride + kx)) * c
                            for ch in 0..<c { o[ch] += i[ch] }
                        }
                    }
                    for ch in 0..<c { o[ch] *= scale }
                }
            }
        }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad else { return }
        let scale = 1 / Float(size * size)
        for n in 0..<batch {
            let d = dinp + n * input.sampleSize, dout = output.grad! + n * output.sampleSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let g = dout + (oy * ow + ox) * c
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let i = d + ((oy * stride + ky) * w + (ox * stride + kx)) * c
                            for ch in 0..<c { i[ch] += g[ch] * scale }
                        }
                    }
                }
            }
        }
    }
}

extension PlanBuilder {
    public func avgPool(_ input: Tensor, size: Int, stride: Int) -> Tensor {
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let output = tensor([(h - size) / stride + 1, (w - size) / stride + 1, c])
        add(AvgPoolOp(input: input, output: output, size: size, stride: stride))
        return output
    }
}
