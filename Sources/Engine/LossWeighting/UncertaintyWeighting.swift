import Foundation

/// Uncertainty weighting of task losses (Kendall, Gal & Cipolla, 2018): one learned log-variance
/// s_t per task, total = Σ_t w_t · exp(−s_t) · L_t + s_t, with w_t the task's fixed weight. A
/// task whose loss stays high (noisy, hard) learns a large s_t and so a small weight; the + s_t
/// term keeps every weight from collapsing to zero.
///
/// The op runs after the task losses. Forward sets each loss op's `weight` to w_t · exp(−s_t),
/// so the losses' own backward (which runs after this op's, in reverse order) scales their
/// gradients by it; its own loss is Σ s_t, and backward adds ∂total/∂s_t = 1 − w_t·exp(−s_t)·L_t.
///
/// With the batch split into parts, each L_t is the part's share of the batch's loss and the
/// parts' gradients are summed: the + s_t term (its loss, and the 1 in its gradient) is one
/// part's alone (`BatchParts.addsBatchTerms`).
final class UncertaintyWeightingOp: LossOp, SplitBatchOp {
    let losses: [any LossOp]
    /// It reads the task losses, not tensors.
    var inputs: [Tensor] { [] }
    let baseWeights: [Float]
    let logVariance: Parameter
    var weight: Float = 1
    private(set) var loss: Float = 0
    var count: Int { 1 }
    var parts: (any BatchParts)?
    /// 1 where this pass adds the batch's own terms, 0 in the other parts.
    private var batchTerm: Float { parts?.addsBatchTerms ?? true ? 1 : 0 }

    init(losses: [any LossOp], logVariance: Parameter) {
        self.losses = losses
        self.baseWeights = losses.map(\.weight)
        self.logVariance = logVariance
    }

    func forward(batch: Int, mode: PassMode) {
        var sum: Float = 0
        for (t, op) in losses.enumerated() {
            let s = logVariance.value[t]
            op.weight = baseWeights[t] * expf(-s)
            sum += s
        }
        loss = batchTerm * sum
    }

    /// The log-variance term belongs to no sample.
    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { losses[b] = .nan }
    }

    func backward(batch: Int) {
        guard !logVariance.frozen else { return }
        for (t, op) in losses.enumerated() {
            // A task with no counted row this batch has L = 0: its s_t only feels the + s_t term.
            logVariance.grad[t] += batchTerm - op.weight * op.loss
        }
    }
}

extension PlanBuilder {
    /// Weights `losses` by learned uncertainty; call after adding them. The log-variances start
    /// at 0 (every weight as given) and are saved with the weights under `name`.
    public func uncertaintyWeighting(_ losses: [any LossOp], name: String) {
        let logVariance = parameter(name, [losses.count], .constant(0))
        add(UncertaintyWeightingOp(losses: losses, logVariance: logVariance))
    }
}
