/// Max pooling over size × size windows of an NHWC image, no padding. Forward remembers where
/// each maximum came from; backward sends dout there: dinp[argmax] += dout.
final class MaxPoolOp: Op, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    let size: Int, stride: Int
    let argmax: UnsafeMutablePointer<Int32>
    let h: Int, w: Int, c: Int, oh: Int, ow: Int

    init(pool: ThreadPool, input: Tensor, output: Tensor, size: Int, stride: Int, argmax: UnsafeMutablePointer<Int32>) {
        self.pool = pool
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        self.argmax = argmax
        (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        (oh, ow) = (output.shape[0], output.shape[1])
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: 0)
    }

    func backward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch, costPerItem: output.sampleSize, self, part: 1)
    }

    /// Part 0 is forward, part 1 backward, over a range of samples.
    func run(_ samples: Range<Int>, part: Int) {
        let (inSize, outSize) = (input.sampleSize, output.sampleSize)
        let (c, w, oh, ow, size, stride) = (c, w, oh, ow, size, stride)
        for n in samples {
            let arg = argmax + n * outSize
            if part == 1 {
                let d = input.grad! + n * inSize, g = output.grad! + n * outSize
                for o in 0..<outSize { d[Int(arg[o])] += g[o] }
                continue
            }
            let inp = input.data + n * inSize, out = output.data + n * outSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    // Channels innermost: one branch-free pass per window position. The first
                    // position seeds the maximum; ties keep the earlier one.
                    let o = (oy * ow + ox) * c
                    let corner = (oy * stride * w + ox * stride) * c
                    let best = out + o, where_ = arg + o, seed = inp + corner
                    for ch in 0..<c {
                        best[ch] = seed[ch]
                        where_[ch] = Int32(truncatingIfNeeded: corner &+ ch)
                    }
                    for ky in 0..<size {
                        for kx in 0..<size where ky > 0 || kx > 0 {
                            // Only the loop variable indexes the inner loop: no overflow checks
                            // there, so it vectorises.
                            let index = ((oy * stride + ky) * w + (ox * stride + kx)) * c
                            let source = inp + index
                            for ch in 0..<c {
                                let value = source[ch], better = value > best[ch]
                                best[ch] = better ? value : best[ch]
                                where_[ch] = better ? Int32(truncatingIfNeeded: index &+ ch) : where_[ch]
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
                      argmax: arena.int32s(maxBatch * output.sampleSize)))
        return output
    }
}
