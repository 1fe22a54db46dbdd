/// Average pooling over size × size windows of an NHWC image, no padding:
/// out = mean of the window; backward spreads dout / size² over it.
final class AvgPoolOp: Op, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let size: Int, stride: Int
    let w: Int, c: Int, oh: Int, ow: Int

    init(pool: ThreadPool, input: Tensor, output: Tensor, size: Int, stride: Int) {
        self.pool = pool
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        (w, c) = (input.shape[1], input.shape[2])
        (oh, ow) = (output.shape[0], output.shape[1])
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .forward)
    }

    func backward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .backward)
    }

    /// Forward or backward over a range of samples.
    func run(_ samples: Range<Int>, part: ForwardOrBackward, worker: Int) {
        let scale = 1 / Float(size * size)
        let (inSize, outSize, c, w, oh, ow, size, stride) = (input.sampleSize, output.sampleSize, c, w, oh, ow, size, stride)
        for n in samples {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let o = (oy * ow + ox) * c
                    if part == .forward {
                        let inp = input.data + n * inSize, out = output.data + n * outSize + o
                        for ch in 0..<c { out[ch] = 0 }
                        for ky in 0..<size {
                            for kx in 0..<size {
                                let i = inp + ((oy * stride + ky) * w + (ox * stride + kx)) * c
                                for ch in 0..<c { out[ch] += i[ch] }
                            }
                        }
                        for ch in 0..<c { out[ch] *= scale }
                    } else {
                        let d = input.grad! + n * inSize, g = output.grad! + n * outSize + o
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
}

extension PlanBuilder {
    public func avgPool(_ input: Tensor, size: Int, stride: Int) -> Tensor {
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let output = tensor([(h - size) / stride + 1, (w - size) / stride + 1, c])
        add(AvgPoolOp(pool: pool, input: input, output: output, size: size, stride: stride))
        return output
    }
}
