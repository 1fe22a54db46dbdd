import Foundation

/// tanh(x); its derivative from the output: 1 − y².
struct Tanh: Activation {
    func value(_ x: Float) -> Float { tanhf(x) }
    func derivative(x: Float, y: Float) -> Float { 1 - y * y }
}

extension PlanBuilder {
    public func tanh(_ input: Tensor) -> Tensor { activation(.tanh, input) }
}
