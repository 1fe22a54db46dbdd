/// leaky_relu(x) = x for x > 0, slope · x otherwise.
struct LeakyReLU: Activation {
    let slope: Float
    func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : slope }
}

final class LeakyReLUOp: ActivationOp {
    let function: LeakyReLU
    let input: Tensor, output: Tensor
    let pool: ThreadPool

    init(_ function: LeakyReLU, input: Tensor, output: Tensor, pool: ThreadPool) {
        self.function = function
        self.pool = pool
        self.input = input
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) { runForward(batch: batch) }
    func backward(batch: Int) { runBackward(batch: batch) }
}

extension PlanBuilder {
    public func leakyReLU(_ input: Tensor, slope: Float) -> Tensor {
        let output = tensor(input.shape)
        add(LeakyReLUOp(LeakyReLU(slope: slope), input: input, output: output, pool: pool))
        return output
    }
}
