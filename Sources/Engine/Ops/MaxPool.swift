/// Max pooling over size × size windows of an NHWC image, with PyTorch's implicit −∞ padding:
/// a window may hang `padding` pixels over each edge (padding ≤ size / 2, so every window
/// holds at least one pixel of the image), and only the pixels inside count. Backward sends
/// dout to the first position of each window holding the maximum (scanning rows, then
/// columns, inside pixels only), found again by comparing the input with the output:
/// remembering it in forward cost a store per element per window position and kept the loop
/// from vectorising.
final class MaxPoolOp: GradientAssigning, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let size: Int, stride: Int, padding: Int
    let h: Int, w: Int, c: Int, oh: Int, ow: Int
    /// Per worker, per channel: whether the window's maximum was found already (backward).
    let found: UnsafeMutablePointer<Float>
    var assignsInputGradient = false
    /// Windows that tile the image (no overlap, no gap, no padding) write every input
    /// position's gradient exactly once.
    var canAssignInputGradient: Bool { size == stride && padding == 0 && h % size == 0 && w % size == 0 }

    init(pool: ThreadPool, input: Tensor, output: Tensor, size: Int, stride: Int, padding: Int,
         found: UnsafeMutablePointer<Float>) {
        self.pool = pool
        self.input = input
        self.output = output
        self.size = size
        self.stride = stride
        self.padding = padding
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
        let (h, c, w, oh, ow, size, stride, padding) = (h, c, w, oh, ow, size, stride, padding)
        let done = found + worker * c
        let dinp = part == .backward ? input.grad : nil, dout = part == .backward ? output.grad : nil
        for n in samples {
            let inp = input.data + n * inSize, out = output.data + n * outSize
            for oy in 0..<oh {
                // The window's rows inside the image: y0 + ky for ky in rows (all of them unpadded).
                let y0 = oy * stride - padding
                let rows = max(0, -y0)..<min(size, h - y0)
                for ox in 0..<ow {
                    let x0 = ox * stride - padding
                    let columns = max(0, -x0)..<min(size, w - x0)
                    let best = out + (oy * ow + ox) * c
                    if part == .forward {
                        let (firstY, firstX) = (rows.lowerBound, columns.lowerBound)
                        let seed = inp + ((y0 + firstY) * w + (x0 + firstX)) * c
                        for ch in 0..<c { best[ch] = seed[ch] }
                        for ky in rows {
                            for kx in columns where ky > firstY || kx > firstX {
                                let source = inp + ((y0 + ky) * w + (x0 + kx)) * c
                                for ch in 0..<c { best[ch] = source[ch] > best[ch] ? source[ch] : best[ch] }
                            }
                        }
                        continue
                    }
                    guard let dinp, let dout else { return }
                    let d = dinp + n * inSize, g = dout + n * outSize + (oy * ow + ox) * c
                    for ch in 0..<c { done[ch] = 0 }
                    for ky in rows {
                        for kx in columns {
                            let offset = ((y0 + ky) * w + (x0 + kx)) * c
                            let source = inp + offset, target = d + offset
                            if assignsInputGradient {
                                for ch in 0..<c {  // arithmetic, not branches: it vectorises
                                    let hit: Float = (source[ch] == best[ch] ? 1 : 0) * (1 - done[ch])
                                    target[ch] = hit * g[ch]
                                    done[ch] += hit
                                }
                            } else {
                                for ch in 0..<c {
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
}

extension PlanBuilder {
    /// Output ⌊(H + 2·padding − size) / stride⌋ + 1 per side; `padding` at most size / 2.
    public func maxPool(_ input: Tensor, size: Int, stride: Int, padding: Int = 0) -> Tensor {
        precondition(padding >= 0 && padding <= size / 2, "maxpool padding must lie in 0...size / 2")
        let (h, w, c) = (input.shape[0], input.shape[1], input.shape[2])
        let output = tensor([(h + 2 * padding - size) / stride + 1, (w + 2 * padding - size) / stride + 1, c])
        add(MaxPoolOp(pool: pool, input: input, output: output, size: size, stride: stride, padding: padding,
                      found: arena.floats(pool.threads * c)))
        return output
    }
}
