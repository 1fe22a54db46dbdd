/// relu(x) = max(x, 0); its derivative is 1 where x > 0, else 0.
struct ReLU: Activation {
    func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : 0 }
}

final class ReLUOp: ActivationOp {
    let function: ReLU
    let input: Tensor, output: Tensor
    let pool: ThreadPool

    init(_ function: ReLU, input: Tensor, output: Tensor, pool: ThreadPool) {
        self.function = function
        self.pool = pool
        self.input = input
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) { runForward(batch: batch) }
    func backward(batch: Int) { runBackward(batch: batch) }
}

extension PlanBuilder {
    public func relu(_ input: Tensor) -> Tensor {
        let output = tensor(input.shape)
        add(ReLUOp(ReLU(), input: input, output: output, pool: pool))
        return output
    }
}
