/// The mean over every position (of an image's H × W, or a sequence's T), per channel:
/// out (C) = mean over positions of inp (P, C); dinp += dout / P.
final class GlobalAvgPoolOp: Op, ParallelLoop {
    let pool: ThreadPool
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let positions: Int, channels: Int

    init(pool: ThreadPool, input: Tensor, output: Tensor) {
        self.pool = pool
        self.input = input
        self.output = output
        channels = input.shape.last!
        positions = input.sampleSize / channels
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
        let scale = 1 / Float(positions)
        let (size, channels, positions) = (input.sampleSize, channels, positions)
        for n in samples {
            if part == .forward {
                let inp = input.data + n * size, out = output.data + n * channels
                for ch in 0..<channels { out[ch] = 0 }
                for p in 0..<positions {
                    let row = inp + p * channels
                    for ch in 0..<channels { out[ch] += row[ch] }
                }
                for ch in 0..<channels { out[ch] *= scale }
            } else {
                let d = input.grad! + n * size, dout = output.grad! + n * channels
                for p in 0..<positions {
                    let row = d + p * channels
                    for ch in 0..<channels { row[ch] += dout[ch] * scale }
                }
            }
        }
    }
}

extension PlanBuilder {
    public func globalAvgPool(_ input: Tensor) -> Tensor {
        let output = tensor([input.shape.last!])
        add(GlobalAvgPoolOp(pool: pool, input: input, output: output))
        return output
    }
}
