import Foundation

/// An elementwise function with its derivative, side by side. `ActivationOp` runs any of them
/// in plain loops that the compiler specialises and vectorises per activation.
protocol Activation {
    /// y = f(x)
    func value(_ x: Float) -> Float
    /// dy/dx, from the input x or the output y, whichever is cheaper.
    func derivative(x: Float, y: Float) -> Float
}

/// out = f(inp) elementwise; dinp += f'(inp) · dout.
final class ActivationOp<A: Activation>: Op {
    let activation: A
    let input: Tensor, output: Tensor

    init(_ activation: A, input: Tensor, output: Tensor) {
        self.activation = activation
        self.input = input
        self.output = output
    }

    func forward(batch: Int, mode: PassMode) {
        let inp = input.data, out = output.data
        for i in 0..<(batch * input.sampleSize) { out[i] = activation.value(inp[i]) }
    }

    func backward(batch: Int) {
        guard let dinp = input.grad, let dout = output.grad else { return }
        let inp = input.data, out = output.data
        for i in 0..<(batch * input.sampleSize) {
            dinp[i] += activation.derivative(x: inp[i], y: out[i]) * dout[i]
        }
    }
}

extension PlanBuilder {
    func activation<A: Activation>(_ activation: A, _ input: Tensor) -> Tensor {
        let output = tensor(input.shape)
        add(ActivationOp(activation, input: input, output: output))
        return output
    }
}
