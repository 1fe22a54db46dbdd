/// Concatenation along the feature axis: each sample of the output is the samples of the
/// inputs one after the other (each input flattened). Backward hands each input its slice.
final class ConcatOp: Op {
    let inputs: [Tensor]
    let output: Tensor

    init(inputs: [Tensor], output: Tensor) {
        self.inputs = inputs
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) {
        let width = output.sampleSize
        var offset = 0
        for input in inputs {
            let size = input.sampleSize
            for b in 0..<batch { (output.data + b * width + offset).update(from: input.data + b * size, count: size) }
            offset += size
        }
    }

    func backward(batch: Int) {
        let width = output.sampleSize, dout = output.grad!
        var offset = 0
        for input in inputs {
            let size = input.sampleSize
            if let dinp = input.grad {
                for b in 0..<batch {
                    let src = dout + b * width + offset, dst = dinp + b * size
                    for j in 0..<size { dst[j] += src[j] }
                }
            }
            offset += size
        }
    }
}

extension PlanBuilder {
    public func concat(_ inputs: [Tensor]) -> Tensor {
        let output = tensor([inputs.reduce(0) { $0 + $1.sampleSize }])
        add(ConcatOp(inputs: inputs, output: output))
        return output
    }

    /// The same values as one vector per sample; no op, no copy.
    public func flatten(_ input: Tensor) -> Tensor {
        view(input, as: [input.sampleSize])
    }
}
