import Foundation

/// Dynamic Weight Average (Liu, Johns & Davison, 2019) on losses brought to one scale.
///
/// Per task k, with L̄_k(e) its mean loss over epoch e's training passes (over the rows its mask
/// kept) and K tasks:
///
///     r_k = L̄_k(e−1) / L̄_k(e−2)          how fast the task's loss still falls
///     λ_k = K · exp(r_k / T) / Σ_j exp(r_j / T)   (λ_k = 1 in the first two epochs)
///     total = Σ_k w_k · λ_k · L_k / n_k
///
/// with w_k the task's fixed weight and n_k its mean loss over the first epoch that counted it
/// (during that epoch, its mean over the batches so far, this one included). The paper's total
/// is Σ λ_k · L_k; dividing by n_k is flowtrain's addition: the ratios r_k do not depend on a
/// loss's scale, but the raw losses do, so without it a task whose loss is 1000 times larger
/// takes the shared layers whatever λ says. n_k is fixed after the first epoch: dividing by a
/// recent mean instead would weight a task more the better it already does, and in a conflict
/// over a shared layer the task ahead would take it all.
///
/// The running sums and the previous two epochs' means are state tensors (saved with the
/// weights and in checkpoints), so a resumed run weights exactly as an uninterrupted one.
///
/// With the batch split into parts, every training pass sums the parts' shares of the task
/// losses (one call of K floats): each part then adds the batch's loss and count, so the sums,
/// n_k and λ are the whole batch's and the same in every part, at every step.
final class DynamicWeightAverageOp: LossOp, EpochObserver, SplitBatchOp {
    let losses: [any MaskedLoss]
    /// It reads the task losses, not tensors.
    var inputs: [Tensor] { [] }
    let baseWeights: [Float]
    let temperature: Float
    /// Per task: [Σ loss·count, Σ count] of the current epoch, then L̄(e−1), L̄(e−2), λ, n; and
    /// one more float, the number of epochs ended. NaN marks a mean not known yet.
    let history: UnsafeMutablePointer<Float>
    var weight: Float = 1
    var loss: Float { 0 }
    var count: Int { 1 }
    var parts: (any BatchParts)?
    /// The batch's task losses of the last training pass when it is split: the parts' shares summed.
    let batchLosses: UnsafeMutablePointer<Float>

    init(losses: [any MaskedLoss], temperature: Float, history: UnsafeMutablePointer<Float>,
         batchLosses: UnsafeMutablePointer<Float>) {
        self.losses = losses
        self.baseWeights = losses.map(\.weight)
        self.temperature = temperature
        self.history = history
        self.batchLosses = batchLosses
    }

    static let floatsPerTask = 6
    private func sum(_ k: Int) -> UnsafeMutablePointer<Float> { history + Self.floatsPerTask * k }

    /// The λ of task k for the current epoch.
    func balance(_ k: Int) -> Float { sum(k)[4] }

    func forward(batch: Int, mode: PassMode) {
        if mode == .training, let parts {
            for (k, op) in losses.enumerated() { batchLosses[k] = op.loss }
            parts.sum(batchLosses, count: losses.count)
        }
        for (k, op) in losses.enumerated() {
            let s = sum(k)
            // The divisor is the batch's count of kept rows, in every part (alone: `count`).
            if mode == .training, op.divisor > 0 {
                s[0] += (parts == nil ? op.loss : batchLosses[k]) * Float(op.divisor)
                s[1] += Float(op.divisor)
            }
            let scale = s[5].isNaN ? (s[1] > 0 ? s[0] / s[1] : 1) : s[5]
            op.weight = baseWeights[k] * s[4] / max(scale, 1e-8)
        }
    }

    /// The balancer's own term: nothing; it only sets the task losses' weights.
    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { losses[b] = .nan }
    }

    func backward(batch: Int) {}

    /// Closes the epoch: its means become L̄(e−1), and λ is computed for the next one. A task
    /// no row trained this epoch keeps its previous mean.
    func endEpoch() {
        var ratios = [Float](repeating: 1, count: losses.count)
        for k in losses.indices {
            let s = sum(k)
            if s[1] > 0 {
                s[3] = s[2]
                s[2] = s[0] / s[1]
                if s[5].isNaN { s[5] = s[2] }
            }
            (s[0], s[1]) = (0, 0)
            if !s[2].isNaN, !s[3].isNaN, s[3] > 0 { ratios[k] = s[2] / s[3] }
        }
        let epochs = history[Self.floatsPerTask * losses.count] + 1
        history[Self.floatsPerTask * losses.count] = epochs
        guard epochs >= 2 else { return }
        let largest = ratios.max() ?? 1
        let exps = ratios.map { expf(($0 - largest) / temperature) }
        let total = exps.reduce(0, +)
        for k in losses.indices { sum(k)[4] = Float(losses.count) * exps[k] / total }
    }
}

/// An op whose state changes at the end of each training epoch (epoch-level loss balancers).
public protocol EpochObserver: AnyObject {
    func endEpoch()
}

extension PlanBuilder {
    /// Weights `losses` by Dynamic Weight Average with `temperature` (2 in the paper); call after
    /// adding them. Its statistics are saved with the weights under `name`.
    public func dynamicWeightAverage(_ losses: [any MaskedLoss], temperature: Float, name: String) {
        let size = DynamicWeightAverageOp.floatsPerTask
        let history = stateTensor(name, [size * losses.count + 1], initial: .nan)
        for k in losses.indices {
            (history[size * k], history[size * k + 1], history[size * k + 4]) = (0, 0, 1)
        }
        history[size * losses.count] = 0
        add(DynamicWeightAverageOp(losses: losses, temperature: temperature, history: history,
                                   batchLosses: scratch(losses.count)))
    }
}
