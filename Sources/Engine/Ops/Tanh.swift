import Foundation

/// tanh(x); its derivative from the output: 1 − y².
struct Tanh: Activation {
    func value(_ x: Float) -> Float { tanhf(x) }
    func derivative(x: Float, y: Float) -> Float { 1 - y * y }
}

final class TanhOp: ActivationOp {
    let function: Tanh
    let input: Tensor, output: Tensor
    let pool: ThreadPool

    init(_ function: Tanh, input: Tensor, output: Tensor, pool: ThreadPool) {
        self.function = function
        self.pool = pool
        self.input = input
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) { runForward(batch: batch) }
    func backward(batch: Int) { runBackward(batch: batch) }
}

extension PlanBuilder {
    public func tanh(_ input: Tensor) -> Tensor {
        let output = tensor(input.shape)
        add(TanhOp(Tanh(), input: input, output: output, pool: pool))
        return output
    }
}
