/// out = a + b (a residual connection); da += dout, db += dout.
final class AddOp: Op {
    let a: Tensor, b: Tensor, output: Tensor
    var inputs: [Tensor] { [a, b] }

    init(a: Tensor, b: Tensor, output: Tensor) {
        self.a = a
        self.b = b
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) {
        let x = a.data, y = b.data, out = output.data
        for i in 0..<(batch * output.sampleSize) { out[i] = x[i] + y[i] }
    }

    func backward(batch: Int) {
        let dout = output.grad!
        for grad in [a.grad, b.grad] {
            guard let d = grad else { continue }
            for i in 0..<(batch * output.sampleSize) { d[i] += dout[i] }
        }
    }
}

extension PlanBuilder {
    /// `input + block(input)`; the block must keep the shape.
    public func residual(_ input: Tensor, _ block: (Tensor) -> Tensor) -> Tensor {
        let inner = block(input)
        precondition(inner.shape == input.shape, "a residual block must keep its input's shape")
        let output = tensor(input.shape)
        add(AddOp(a: input, b: inner, output: output))
        return output
    }

    /// `block(input) + shortcut(input)`, for a block that changes the shape (a projection
    /// shortcut, as in ResNet). The block is built first, so its parameters come before the
    /// shortcut's in declaration order; both must give the same shape.
    public func residual(_ input: Tensor, _ block: (Tensor) -> Tensor, shortcut: (Tensor) -> Tensor) -> Tensor {
        let inner = block(input)
        let projected = shortcut(input)
        precondition(inner.shape == projected.shape, "a residual block and its shortcut must give the same shape")
        let output = tensor(inner.shape)
        add(AddOp(a: inner, b: projected, output: output))
        return output
    }
}
