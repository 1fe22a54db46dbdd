/// Max pooling over size × size windows of an NHWC image, no padding. Forward remembers where
/// each maximum came from; backward sends dout there: dinp[argmax] += dout.
final class MaxPoolOp: Op {
    let input: Tensor, output: Tensor
    let size: Int, stride: Int
    let argmax: UnsafeMutablePointer<Int32>
    let h: Int, w: Int, c: Int, oh: Int, ow: Int

    init(input: Tensor, output: Tensor, size: Int, stride: Int, argmax: UnsafeMutablePointer<Int32>) {
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        self.argmax = argmax
        (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        (oh, ow) = (output.shape[0], output.shape[1])
    }

    func forward(batch: Int, mode: PassMode) {
        for n in 0..<batch {
            let inp = input.data + n * input.sampleSize
            let out = output.data + n * output.sampleSize, arg = argmax + n * output.sampleSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for ch in 0..<c {
                        var best = -Float.infinity, bestIndex = 0
                        for ky in 0..<size {
                            for kx in 0..<size {
                                let index = ((oy * stride + ky) * w + (ox * stride + kx)) * c + ch
                                if inp[index] > best { best = inp[index]; bestIndex = index }
                            }
                        }
                        let o = (oy * ow + ox) * c + ch
                        out[o] = best
                        arg[o] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad else { return }
        let dout = output.grad!
        for n in 0..<batch {
            let d = dinp + n * input.sampleSize
            for o in 0..<output.sampleSize {
                d[Int(argmax[n * output.sampleSize + o])] += dout[n * output.sampleSize + o]
            }
        }
    }
}

extension PlanBuilder {
    public func maxPool(_ input: Tensor, size: Int, stride: Int) -> Tensor {
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let output = tensor([(h - size) / stride + 1, (w - size) / stride + 1, c])
        add(MaxPoolOp(input: input, output: output, size: size, stride: stride,
                      argmax: arena.int32s(maxBatch * output.sampleSize)))
        return output
    }
}
