/// Max pooling over size × size windows of an NHWC image, no padding. Backward sends dout to
/// the first position of each window holding the maximum (scanning rows, then columns), found
/// again by comparing the input with the output: remembering it in forward cost a store per
/// element per window position and kept the loop from vectorising.
final class MaxPoolOp: Op, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let size: Int, stride: Int
    let h: Int, w: Int, c: Int, oh: Int, ow: Int
    /// Per worker, per channel: whether the window's maximum was found already (backward).
    let found: UnsafeMutablePointer<Float>

    init(pool: ThreadPool, input: Tensor, output: Tensor, size: Int, stride: Int, found: UnsafeMutablePointer<Float>) {
        self.pool = pool
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        self.found = found
        (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        (oh, ow) = (output.shape[0], output.shape[1])
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .forward)
    }

    func backward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .backward)
    }

    /// Forward or backward over a range of samples. Channels are innermost and
    /// only the loop variable indexes them, so every inner loop vectorises.
    func run(_ samples: Range<Int>, part: ForwardOrBackward, worker: Int) {
        let (inSize, outSize) = (input.sampleSize, output.sampleSize)
        let (c, w, oh, ow, size, stride) = (c, w, oh, ow, size, stride)
        let done = found + worker * c
        let dinp = part == .backward ? input.grad : nil, dout = part == .backward ? output.grad : nil
        for n in samples {
            let inp = input.data + n * inSize, out = output.data + n * outSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let best = out + (oy * ow + ox) * c
                    if part == .forward {
                        let seed = inp + (oy * stride * w + ox * stride) * c
                        for ch in 0..<c { best[ch] = seed[ch] }
                        for ky in 0..<size {
                            for kx in 0..<size where ky > 0 || kx > 0 {
                                let source = inp + ((oy * stride + ky) * w + (ox * stride + kx)) * c
                                for ch in 0..<c { best[ch] = source[ch] > best[ch] ? source[ch] : best[ch] }
                            }
                        }
                        continue
                    }
                    guard let dinp, let dout else { return }
                    let d = dinp + n * inSize, g = dout + n * outSize + (oy * ow + ox) * c
                    for ch in 0..<c { done[ch] = 0 }
                    for ky in 0..<size {
                        for kx in 0..<size {
                            let offset = ((oy * stride + ky) * w + (ox * stride + kx)) * c
                            let source = inp + offset, target = d + offset
                            for ch in 0..<c {  // arithmetic, not branches: it vectorises
                                let hit: Float = (source[ch] == best[ch] ? 1 : 0) * (1 - done[ch])
                                target[ch] += hit * g[ch]
                                done[ch] += hit
                            }
                        }
                    }
                }
            }
        }
    }
}

extension PlanBuilder {
    public func maxPool(_ input: Tensor, size: Int, stride: Int) -> Tensor {
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let output = tensor([(h - size) / stride + 1, (w - size) / stride + 1, c])
        add(MaxPoolOp(pool: pool, input: input, output: output, size: size, stride: stride,
                      found: arena.floats(pool.threads * c)))
        return output
    }
}
