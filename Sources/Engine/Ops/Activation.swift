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

/// dinp += f'(inp) · dout elementwise (`=` with `assign`: the only writer of dinp).
@inline(__always)
func activationBackward<A: Activation>(_ f: A, _ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                       _ inp: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ count: Int,
                                       assign: Bool = false) {
    if assign {
        for i in 0..<count { dinp[i] = f.derivative(x: inp[i], y: out[i]) * dout[i] }
    } else {
        for i in 0..<count { dinp[i] += f.derivative(x: inp[i], y: out[i]) * dout[i] }
    }
}

/// The activations an `ActivationOp` can run.
enum ActivationFunction {
    case relu
    case leakyReLU(slope: Float)
    case gelu
    case tanh
    case sigmoid
}

/// out = f(inp) elementwise, in parallel chunks. `run` switches on the function once per chunk
/// and calls the generic loops with a concrete type, so each activation's loop is specialised
/// (a generic op class called through `any Op` would run unspecialised, a call per element).
final class ActivationOp: GradientAssigning, ParallelLoop {
    let function: ActivationFunction
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let pool: ThreadPool
    var assignsInputGradient = false

    init(_ function: ActivationFunction, input: Tensor, output: Tensor, pool: ThreadPool) {
        self.function = function
        self.input = input
        self.output = output
        self.pool = pool
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(batch * input.sampleSize, costPerItem: 4, self, part: .forward)
    }

    func backward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch * input.sampleSize, costPerItem: 4, self, part: .backward)
    }

    /// Forward or backward over a range of elements.
    func run(_ items: Range<Int>, part: ForwardOrBackward, worker: Int) {
        switch function {
        case .relu: run(ReLU(), items, part)
        case .leakyReLU(let slope): run(LeakyReLU(slope: slope), items, part)
        case .gelu: run(GELU(), items, part)
        case .tanh: run(Tanh(), items, part)
        case .sigmoid: run(Sigmoid(), items, part)
        }
    }

    @inline(__always)
    private func run<A: Activation>(_ f: A, _ items: Range<Int>, _ part: ForwardOrBackward) {
        let start = items.lowerBound
        if part == .forward {
            activationForward(f, output.data + start, input.data + start, items.count)
        } else {
            activationBackward(f, input.grad! + start, output.grad! + start, input.data + start,
                               output.data + start, items.count, assign: assignsInputGradient)
        }
    }
}

extension PlanBuilder {
    func activation(_ function: ActivationFunction, _ input: Tensor) -> Tensor {
        let output = tensor(input.shape)
        add(ActivationOp(function, input: input, output: output, pool: pool))
        return output
    }
}
