/// leaky_relu(x) = x for x > 0, slope · x otherwise.
struct LeakyReLU: Activation {
    let slope: Float
    func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    func derivative(x: Float, y: Float) -> Float { x > 0 ? 1 : slope }
}

extension PlanBuilder {
    public func leakyReLU(_ input: Tensor, slope: Float) -> Tensor { activation(.leakyReLU(slope: slope), input) }
}
