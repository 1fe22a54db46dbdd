/// Inverted dropout: in training each value is kept with probability 1 − rate and scaled by
/// 1 / (1 − rate), so evaluation is the identity. The mask is drawn from the op's own seeded
/// generator and kept for backward: dinp += mask · dout.
final class DropoutOp: SeededOp {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let rate: Float
    let mask: UnsafeMutablePointer<Float>
    let stream: UInt64
    var random = Random(seed: 0)
    private var lastMode = PassMode.evaluation

    init(input: Tensor, output: Tensor, rate: Float, mask: UnsafeMutablePointer<Float>, stream: UInt64) {
        self.input = input
        self.output = output
        self.rate = rate
        self.mask = mask
        self.stream = stream
    }

    func reseed(planSeed: UInt64) {
        random = Random(seed: planSeed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
    }

    func forward(batch: Int, mode: PassMode) {
        lastMode = mode
        let count = batch * input.sampleSize
        let inp = input.data, out = output.data
        guard mode == .training, rate > 0 else {
            out.update(from: inp, count: count)
            return
        }
        let scale = 1 / (1 - rate)
        // random.uniform() ≥ rate, on the draw's 24 bits before they become a float: k / 2²⁴ ≥
        // rate exactly when k ≥ ⌈rate · 2²⁴⌉ (both sides exact), so the masks are the same.
        let threshold = UInt64((rate * 16_777_216).rounded(.up))
        for i in 0..<count {
            mask[i] = random.next() >> 40 >= threshold ? scale : 0
            out[i] = inp[i] * mask[i]
        }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad, let dout = output.grad else { return }
        let count = batch * input.sampleSize
        if lastMode == .training, rate > 0 {
            for i in 0..<count { dinp[i] += mask[i] * dout[i] }
        } else {
            for i in 0..<count { dinp[i] += dout[i] }
        }
    }
}

extension PlanBuilder {
    public func dropout(_ input: Tensor, rate: Float) -> Tensor {
        let output = tensor(input.shape)
        add(DropoutOp(input: input, output: output, rate: rate, mask: scratch(maxBatch * input.sampleSize),
                      stream: nextOpSeed()))
        return output
    }
}
