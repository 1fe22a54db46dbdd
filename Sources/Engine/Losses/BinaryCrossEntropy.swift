import Foundation

/// Sigmoid + binary cross-entropy from the logit z, for binary and multilabel tasks:
/// l = max(z, 0) − z·y + log(1 + e^(−|z|))   (never overflows; equals −y log σ − (1−y) log(1−σ))
/// dl/dz = σ(z) − y
struct BinaryCrossEntropy: ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float { max(z, 0) - z * y + log1pf(expf(-abs(z))) }
    func gradient(_ z: Float, _ y: Float) -> Float { stableSigmoid(z) - y }
}

extension PlanBuilder {
    /// Targets are 0 or 1; the mask has one entry per logit (per row for binary, per label for
    /// multilabel).
    public func binaryCrossEntropy(logits: Tensor, targets: Tensor, mask: Tensor, weight: Float = 1) -> any MaskedLoss {
        elementLoss(BinaryCrossEntropy(), logits: logits, targets: targets, mask: mask, weight: weight)
    }
}
