import Foundation

/// GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, 2018): task weights adapted so that each
/// task's gradient on the last shared layer has a size that matches how far its loss still has
/// to fall.
///
/// Each task's loss is first brought to one scale, L̂_k = L_k / L_k(0) (L_k(0): its first
/// counted loss), and GradNorm weighs those with μ_k (starting at 1). Per step, over the tasks
/// the batch counts:
///
///     G_k = ‖∂(μ_k · L̂_k) / ∂h‖             h: the shared representation the heads read
///     r_k = L̂_k / mean_j L̂_j
///     target_k = mean_j G_j · r_k^α
///     log μ_k −= η · sign(G_k − target_k) · G_k / mean_j G_j
///     μ ← K · μ / Σ_j μ_j, then μ_k ← max(μ_k, 0.1)     (K balanced tasks)
///
/// and total = Σ_k w_k · μ_k · L̂_k, with w_k the task's fixed weight (G is measured without it).
///
/// Where this departs from the paper, and why:
/// - The paper's weights multiply the raw losses and start at 1, so a loss 1000 times larger
///   than the others takes the shared layers in the first steps, before the weights can move;
///   dividing by L_k(0) is the paper's own L̃, applied to the loss as well as to the ratios.
/// - G is measured on the shared layer's output rather than its weights (as LibMTL's `rep_grad`
///   does): one backward pass gives every task's gradient there, with the heads' gradients kept
///   apart by `GradientTapOp`.
/// - The step is taken on log μ and divided by mean G, so that it needs no tuning to the
///   gradients' size and μ stays positive; the floor keeps a task whose loss fell far (r_k near
///   0) from being switched off for good while tasks with an irreducible loss keep "lagging".
///
/// Tasks that do not read the shared representation, whose fixed weight is 0, or that no row of
/// the batch counts, take no part in that step's update.
///
/// With the batch split into parts, G and the losses are the whole batch's: each step sums the
/// taps' squared norms and the parts' loss shares over the parts in one call of T + K floats
/// (after backward), and a step that takes a task's first loss sums the shares before forward
/// weights them too. μ is then the same in every part.
final class GradNormOp: LossOp, SplitBatchOp {
    let losses: [any MaskedLoss]
    /// Per loss: which tap of `taps` holds its gradient at the shared layer, if any.
    let tapIndex: [Int?]
    let taps: GradientTapOp
    var inputs: [Tensor] { [] }
    let baseWeights: [Float]
    let alpha: Float
    let rate: Float
    /// μ per task, then L_k(0) per task (NaN until the task's first counted batch).
    let state: UnsafeMutablePointer<Float>
    var parts: (any BatchParts)?
    /// The taps' squared norms, then the task losses, summed over the parts when the batch is split.
    let batchSums: UnsafeMutablePointer<Float>
    var weight: Float = 1
    var loss: Float { 0 }
    var count: Int { 1 }
    /// The least μ a task keeps.
    static let floor: Float = 0.1

    init(losses: [any MaskedLoss], tapIndex: [Int?], taps: GradientTapOp, alpha: Float, rate: Float,
         state: UnsafeMutablePointer<Float>, batchSums: UnsafeMutablePointer<Float>) {
        self.losses = losses
        self.batchSums = batchSums
        self.tapIndex = tapIndex
        self.taps = taps
        self.baseWeights = losses.map(\.weight)
        self.alpha = alpha
        self.rate = rate
        self.state = state
    }

    /// μ of task k.
    func balance(_ k: Int) -> Float { state[k] }

    private var initial: UnsafeMutablePointer<Float> { state + losses.count }

    /// Whether a training pass takes task k's first loss: the batch keeps rows of it (`divisor`,
    /// the same in every part) and none did before.
    private func takesFirstLoss(_ k: Int) -> Bool {
        tapIndex[k] != nil && initial[k].isNaN && losses[k].divisor > 0
    }

    /// Task k's loss in the last pass: the batch's when split (after `sumOverParts`), else its own.
    private func batchLoss(_ k: Int) -> Float {
        parts == nil ? losses[k].loss : batchSums[taps.taps.count + k]
    }

    /// Sums over the parts the task losses' shares, and with `norms` the taps' squared norms
    /// too, into `batchSums`.
    private func sumOverParts(_ parts: any BatchParts, norms: Bool) {
        let t = taps.taps.count
        if norms { batchSums.update(from: taps.squares, count: t) }
        for (k, op) in losses.enumerated() { batchSums[t + k] = op.loss }
        let start = norms ? 0 : t
        parts.sum(batchSums + start, count: t + losses.count - start)
    }

    func forward(batch: Int, mode: PassMode) {
        if mode == .training, let parts {
            var first = false
            for k in losses.indices where takesFirstLoss(k) { first = true }
            if first { sumOverParts(parts, norms: false) }
        }
        for (k, op) in losses.enumerated() {
            if mode == .training, takesFirstLoss(k) { initial[k] = max(batchLoss(k), 1e-6) }
            let scale = tapIndex[k] == nil || initial[k].isNaN ? 1 : initial[k]
            op.weight = baseWeights[k] * state[k] / scale
        }
    }

    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { losses[b] = .nan }
    }

    /// μ changes after the taps have measured this step's gradients (`update`), not here: this
    /// op's backward runs before the heads'.
    func backward(batch: Int) {}

    /// The μ step, with the gradient norms the taps just measured.
    func update() {
        let squares = parts == nil ? taps.squares : batchSums
        if let parts { sumOverParts(parts, norms: true) }
        var active: [(k: Int, g: Float, relative: Float)] = []
        for (k, op) in losses.enumerated() {
            guard let tap = tapIndex[k], baseWeights[k] > 0, op.divisor > 0, !initial[k].isNaN else { continue }
            active.append((k, squares[tap].squareRoot() / baseWeights[k], batchLoss(k) / initial[k]))
        }
        guard !active.isEmpty else { return }
        let meanG = active.reduce(0) { $0 + $1.g } / Float(active.count)
        let meanRelative = active.reduce(0) { $0 + $1.relative } / Float(active.count)
        guard meanG > 0, meanG.isFinite, meanRelative > 0 else { return }
        for (k, g, relative) in active {
            let target = meanG * powf(relative / meanRelative, alpha)
            let direction: Float = g > target ? 1 : (g < target ? -1 : 0)
            state[k] *= expf(-rate * direction * g / meanG)
        }
        let balanced = tapIndex.indices.filter { tapIndex[$0] != nil && baseWeights[$0] > 0 }
        let total = balanced.reduce(0) { $0 + state[$1] }
        guard total > 0, total.isFinite else { return }
        for k in balanced { state[k] = max(state[k] * Float(balanced.count) / total, Self.floor) }
    }
}

/// Gives each reader of a shared tensor a gradient buffer of its own, so that the gradients
/// the readers send back can be measured apart (GradNorm) before they are summed.
///
/// The taps share the shared tensor's values; forward does nothing. Backward measures each
/// tap's squared gradient norm over the batch, adds every tap's gradient into the shared
/// tensor's, and then calls `afterBackward`.
final class GradientTapOp: Op {
    let shared: Tensor
    let taps: [Tensor]
    var inputs: [Tensor] { [shared] }
    /// ‖gradient‖² of each tap in the last backward pass (over this part of a split batch).
    let squares: UnsafeMutablePointer<Float>
    var afterBackward: (() -> Void)?

    init(shared: Tensor, taps: [Tensor], squares: UnsafeMutablePointer<Float>) {
        self.shared = shared
        self.taps = taps
        self.squares = squares
    }

    func forward(batch: Int, mode: PassMode) {}

    func backward(batch: Int) {
        let n = batch * shared.sampleSize
        for (t, tap) in taps.enumerated() {
            guard let g = tap.grad else { continue }
            var sum: Float = 0
            for i in 0..<n { sum += g[i] * g[i] }
            squares[t] = sum
            if let d = shared.grad {
                for i in 0..<n { d[i] += g[i] }
            }
        }
        afterBackward?()
    }
}

extension PlanBuilder {
    /// `count` tensors that read as `shared` but keep their gradients apart until the tap's
    /// backward adds them up: give one to each head whose gradient GradNorm weighs.
    public func gradientTaps(_ shared: Tensor, count: Int) -> [Tensor] {
        let size = maxBatch * shared.sampleSize
        let taps = (0..<count).map { _ in
            let tap = Tensor(shape: shared.shape, maxBatch: maxBatch, data: shared.data, grad: arena.floats(size))
            adopt(tap)
            return tap
        }
        add(GradientTapOp(shared: shared, taps: taps, squares: scratch(count)))
        return taps
    }

    /// Weights `losses` by GradNorm; `taps[k]` is the tap (from `gradientTaps`) the k-th loss's
    /// head reads, nil for a loss that does not read the shared tensor. Call after adding the
    /// losses. μ and the first losses are saved with the weights under `name`.
    public func gradNorm(_ losses: [any MaskedLoss], taps: [Tensor?], alpha: Float, rate: Float, name: String) {
        guard let tapOp = ops.lazy.compactMap({ $0 as? GradientTapOp }).first(where: { op in
            taps.contains { tap in tap.map { t in op.taps.contains { $0 === t } } ?? false }
        }) else {
            preconditionFailure("gradNorm needs the taps of one gradientTaps call")
        }
        let tapIndex = taps.map { tap in tap.flatMap { t in tapOp.taps.firstIndex { $0 === t } } }
        let state = stateTensor(name, [2 * losses.count], initial: 1)
        for k in losses.indices { state[losses.count + k] = .nan }
        let op = GradNormOp(losses: losses, tapIndex: tapIndex, taps: tapOp, alpha: alpha, rate: rate, state: state,
                            batchSums: scratch(tapOp.taps.count + losses.count))
        tapOp.afterBackward = { [unowned op] in op.update() }
        add(op)
    }
}
