/// Plain regression on the raw output z (targets standardised by the caller).
/// MSE: l = (z − y)², dl/dz = 2 (z − y).
struct SquaredError: ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float { (z - y) * (z - y) }
    func gradient(_ z: Float, _ y: Float) -> Float { 2 * (z - y) }
}

/// L1: l = |z − y|, dl/dz = sign(z − y).
struct AbsoluteError: ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float { abs(z - y) }
    func gradient(_ z: Float, _ y: Float) -> Float { z > y ? 1 : z < y ? -1 : 0 }
}

/// Huber: l = ½ d² for |d| ≤ δ, δ (|d| − ½ δ) beyond; dl/dz = d clipped to [−δ, δ].
struct HuberError: ElementLoss {
    let delta: Float
    func loss(_ z: Float, _ y: Float) -> Float {
        let d = abs(z - y)
        return d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta)
    }
    func gradient(_ z: Float, _ y: Float) -> Float { min(max(z - y, -delta), delta) }
}

extension PlanBuilder {
    public func regressionLoss(logits: Tensor, targets: Tensor, mask: Tensor, distance: RegressionDistance,
                               weight: Float = 1) -> any MaskedLoss {
        switch distance {
        case .squared: elementLoss(SquaredError(), logits: logits, targets: targets, mask: mask, weight: weight)
        case .absolute: elementLoss(AbsoluteError(), logits: logits, targets: targets, mask: mask, weight: weight)
        case .huber(let delta):
            elementLoss(HuberError(delta: delta), logits: logits, targets: targets, mask: mask, weight: weight)
        }
    }
}
