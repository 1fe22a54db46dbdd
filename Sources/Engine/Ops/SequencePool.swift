/// How `SequencePoolOp` makes one vector of a sequence's kept positions.
public enum SequencePoolMode: Sendable {
    /// out = Σ_t keep_t x_t / Σ_t keep_t;  dx_t += keep_t dout / Σ_t keep_t.
    case mean
    /// out_c = max over kept t of x_tc;  dx_tc += dout_c at the first t that is the maximum.
    case max
    /// out = keep_0 x_0 (the first position: a token, unless the text is empty);  dx_0 += keep_0 dout.
    case first
}

/// A sequence (L, C) to a vector (C) over the positions that hold tokens; a sample without
/// any (an empty text) gives zeros and passes no gradient. Samples split between threads.
final class SequencePoolOp: Op, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let mask: SequenceMask
    let mode: SequencePoolMode
    let length: Int, channels: Int
    /// For max: per sample and channel, the position that won (−1: none).
    let winners: UnsafeMutablePointer<Int32>
    let pool: ThreadPool

    init(input: Tensor, output: Tensor, mask: SequenceMask, mode: SequencePoolMode, winners: UnsafeMutablePointer<Int32>,
         pool: ThreadPool) {
        self.input = input
        self.output = output
        self.mask = mask
        self.mode = mode
        length = input.shape[0]
        channels = input.shape[1]
        self.winners = winners
        self.pool = pool
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .forward)
    }

    func backward(batch: Int) {
        guard input.grad != nil, output.grad != nil else { return }
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .backward)
    }

    func run(_ samples: Range<Int>, part: ForwardOrBackward, worker: Int) {
        let c = channels
        for n in samples {
            let keep = mask.keep(n), extent = mask.extent(n)
            let x = input.data + n * length * c, out = output.data + n * c, won = winners + n * c
            if part == .forward {
                out.update(repeating: 0, count: c)
                switch mode {
                case .mean:
                    var count: Float = 0
                    for t in 0..<extent where keep[t] != 0 {
                        count += 1
                        for j in 0..<c { out[j] += x[t * c + j] }
                    }
                    if count > 0 { for j in 0..<c { out[j] /= count } }
                case .max:
                    won.update(repeating: -1, count: c)
                    for t in 0..<extent where keep[t] != 0 {
                        for j in 0..<c where won[j] < 0 || x[t * c + j] > out[j] {
                            out[j] = x[t * c + j]
                            won[j] = Int32(t)
                        }
                    }
                case .first:
                    if keep[0] != 0 { out.update(from: x, count: c) }
                }
            } else if let dx = input.grad.map({ $0 + n * length * c }), let dout = output.grad.map({ $0 + n * c }) {
                switch mode {
                case .mean:
                    var count: Float = 0
                    for t in 0..<extent where keep[t] != 0 { count += 1 }
                    for t in 0..<extent where keep[t] != 0 {
                        for j in 0..<c { dx[t * c + j] += dout[j] / count }
                    }
                case .max:
                    for j in 0..<c where won[j] >= 0 { dx[Int(won[j]) * c + j] += dout[j] }
                case .first:
                    if keep[0] != 0 { for j in 0..<c { dx[j] += dout[j] } }
                }
            }
        }
    }
}

extension PlanBuilder {
    /// One vector (C) of `input` (L, C) over the positions `mask` keeps.
    public func sequencePool(_ input: Tensor, mode: SequencePoolMode, mask: SequenceMask) -> Tensor {
        let output = tensor([input.shape[1]])
        add(SequencePoolOp(input: input, output: output, mask: mask, mode: mode,
                           winners: arena.int32s(maxBatch * input.shape[1]), pool: pool))
        return output
    }
}
