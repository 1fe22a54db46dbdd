/// relu(x) = max(x, 0); its derivative is 1 where x > 0, else 0.
struct ReLU: Activation {
    func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : 0 }
}

extension PlanBuilder {
    public func relu(_ input: Tensor) -> Tensor { activation(.relu, input) }
}
