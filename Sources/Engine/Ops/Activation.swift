import Foundation

/// An elementwise function with its derivative, side by side. `ActivationOp` runs any of them
/// in plain loops that the compiler specialises and vectorises per activation.
protocol Activation {
    /// y = f(x)
    func value(_ x: Float) -> Float
    /// dy/dx, from the input x or the output y, whichever is cheaper.
    func derivative(x: Float, y: Float) -> Float
}

/// out = f(inp) elementwise.
@inline(__always)
func activationForward<A: Activation>(_ f: A, _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                      _ count: Int) {
    for i in 0..<count { out[i] = f.value(inp[i]) }
}

/// dinp += f'(inp) · dout elementwise.
@inline(__always)
func activationBackward<A: Activation>(_ f: A, _ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                       _ inp: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ count: Int) {
    for i in 0..<count { dinp[i] += f.derivative(x: inp[i], y: out[i]) * dout[i] }
}

/// The op of one activation. Each activation has its own final class (see ReLU.swift and its
/// siblings) so that the loops above are specialised for it: a generic op class called through
/// `any Op` would run unspecialised, a call per element.
protocol ActivationOp: Op {
    associatedtype Function: Activation
    var function: Function { get }
    var input: Tensor { get }
    var output: Tensor { get }
}

extension ActivationOp {
    @inline(__always)
    func runForward(batch: Int) {
        activationForward(function, output.data, input.data, batch * input.sampleSize)
    }

    @inline(__always)
    func runBackward(batch: Int) {
        guard let dinp = input.grad, let dout = output.grad else { return }
        activationBackward(function, dinp, dout, input.data, output.data, batch * input.sampleSize)
    }
}
