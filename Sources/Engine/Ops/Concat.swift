/// Concatenation along the feature axis: each sample of the output is the samples of the
/// inputs one after the other (each input flattened). Backward hands each input its slice.
/// Rows are split between threads; each input's few values a row are copied by a plain loop
/// (a memmove call per row and input cost more than the copy).
final class ConcatOp: Op, ParallelLoop {
    let inputs: [Tensor]
    let output: Tensor
    let pool: ThreadPool

    init(inputs: [Tensor], output: Tensor, pool: ThreadPool) {
        self.inputs = inputs
        self.output = output
        self.pool = pool
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch, costPerItem: 2 * output.sampleSize, self, part: .forward)
    }

    func backward(batch: Int) {
        pool.parallelFor(batch, costPerItem: 2 * output.sampleSize, self, part: .backward)
    }

    func run(_ rows: Range<Int>, part: ForwardOrBackward, worker: Int) {
        let width = output.sampleSize
        var offset = 0
        for input in inputs {
            let size = input.sampleSize
            switch part {
            case .forward:
                for b in rows {
                    let src = input.data + b * size, dst = output.data + b * width + offset
                    for j in 0..<size { dst[j] = src[j] }
                }
            case .backward:
                if let dinp = input.grad, let dout = output.grad {
                    for b in rows {
                        let src = dout + b * width + offset, dst = dinp + b * size
                        for j in 0..<size { dst[j] += src[j] }
                    }
                }
            }
            offset += size
        }
    }
}

extension PlanBuilder {
    public func concat(_ inputs: [Tensor]) -> Tensor {
        let output = tensor([inputs.reduce(0) { $0 + $1.sampleSize }])
        add(ConcatOp(inputs: inputs, output: output, pool: pool))
        return output
    }

    /// The same values as one vector per sample; no op, no copy.
    public func flatten(_ input: Tensor) -> Tensor {
        view(input, as: [input.sampleSize])
    }
}
