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
protocol ActivationOp: Op, ParallelLoop {
    associatedtype Function: Activation
    var function: Function { get }
    var input: Tensor { get }
    var output: Tensor { get }
    var pool: ThreadPool { get }
}

extension ActivationOp {
    func runForward(batch: Int) {
        pool.parallelFor(batch * input.sampleSize, costPerItem: 4, self, part: 0)
    }

    func runBackward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch * input.sampleSize, costPerItem: 4, self, part: 1)
    }

    /// Part 0 is forward, part 1 backward, over a range of elements.
    func run(_ items: Range<Int>, part: Int) {
        let start = items.lowerBound
        if part == 0 {
            activationForward(function, output.data + start, input.data + start, items.count)
        } else {
            activationBackward(function, input.grad! + start, output.grad! + start, input.data + start,
                               output.data + start, items.count)
        }
    }
}
