import Foundation

/// σ(x) = 1 / (1 + e^(−x)), computed without overflow for large |x|; σ' = y (1 − y).
struct Sigmoid: Activation {
    func value(_ x: Float) -> Float { stableSigmoid(x) }
    func derivative(x: Float, y: Float) -> Float { y * (1 - y) }
}

/// σ(x) that never evaluates e^x for a large positive x.
@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + expf(-x)) }
    let e = expf(x)
    return e / (1 + e)
}

extension PlanBuilder {
    public func sigmoid(_ input: Tensor) -> Tensor { activation(.sigmoid, input) }
}
