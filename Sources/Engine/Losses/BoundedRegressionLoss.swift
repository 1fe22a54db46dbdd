/// Bounded regression: the prediction is p = σ(z) in [0, 1], against a target already divided
/// by the task's scale.
/// MSE: l = (p − y)², dl/dz = 2 (p − y) · p (1 − p).
struct SigmoidSquaredError: ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float {
        let d = stableSigmoid(z) - y
        return d * d
    }
    func gradient(_ z: Float, _ y: Float) -> Float {
        let p = stableSigmoid(z)
        return 2 * (p - y) * p * (1 - p)
    }
}

/// L1: l = |p − y|, dl/dz = sign(p − y) · p (1 − p).
struct SigmoidAbsoluteError: ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float { abs(stableSigmoid(z) - y) }
    func gradient(_ z: Float, _ y: Float) -> Float {
        let p = stableSigmoid(z)
        let d = p - y
        return (d > 0 ? 1 : d < 0 ? -1 : 0) * p * (1 - p)
    }
}

/// The distance a bounded or plain regression is trained on.
public enum RegressionDistance: Sendable {
    case squared, absolute
    /// Huber with threshold δ: quadratic within δ, linear beyond (plain regression only).
    case huber(delta: Float)
}

extension PlanBuilder {
    public func boundedRegressionLoss(logits: Tensor, targets: Tensor, mask: Tensor, distance: RegressionDistance,
                                      weight: Float = 1) -> any MaskedLoss {
        switch distance {
        case .absolute:
            elementLoss(SigmoidAbsoluteError(), logits: logits, targets: targets, mask: mask, weight: weight)
        case .squared, .huber:
            elementLoss(SigmoidSquaredError(), logits: logits, targets: targets, mask: mask, weight: weight)
        }
    }
}
