/// A task's loss: the mean of a per-row (or per-element) loss over the rows its mask keeps,
/// fused with the activation so that it is stable from logits. With no row kept the loss is 0
/// and the gradient zero, never NaN.
///
/// Backward seeds the plan's gradients: d(weight × loss)/d logits, added into the logits'
/// gradient. `weight` may change between steps (loss balancers).
public protocol LossOp: Op {
    var weight: Float { get set }
    /// The mean loss of the last forward pass.
    var loss: Float { get }
    /// Rows (or elements) the mask kept in the last forward pass.
    var count: Int { get }
    /// Each sample's own loss from the last forward pass: the mean over the elements its mask
    /// keeps, NaN where it keeps none. Interpretation ranks samples by it; not used in training.
    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>)
}

/// A task's loss over the rows its mask keeps, which data-parallel training splits across
/// processes: each process holds part of the batch, and the batch's loss is the mean over the
/// rows kept in all parts together. Each process's loss is then its share, its own rows' sum
/// divided by that global count, so that the shares (and their gradients) add up to the
/// batch's over the processes, and a process that keeps no row adds 0, never NaN.
public protocol MaskedLoss: LossOp {
    /// Rows (or elements) the mask keeps in the first `batch` samples, before forward runs:
    /// what the processes sum into `rowsAcrossProcesses`.
    func countKept(batch: Int) -> Int
    /// When set before a forward pass: the rows kept in every process's part of the batch,
    /// which that pass (and its backward) divides the summed loss by; the pass clears it. When
    /// nil, the process has the whole batch and divides by its own `count`.
    var rowsAcrossProcesses: Int? { get set }
    /// What the last forward pass divided the summed loss by: `count`, or `rowsAcrossProcesses`.
    var divisor: Int { get }
}

/// A loss applied to each logit separately: l(z, y) and dl/dz, side by side.
protocol ElementLoss {
    func loss(_ z: Float, _ y: Float) -> Float
    func gradient(_ z: Float, _ y: Float) -> Float
}

/// Any `ElementLoss` over logits, targets and a mask of the same shape (binary: one per row;
/// multilabel: one per label; regressions: one per target).
final class ElementwiseLossOp<L: ElementLoss>: MaskedLoss {
    let function: L
    let logits: Tensor, targets: Tensor, mask: Tensor
    var inputs: [Tensor] { [logits] }
    var weight: Float
    private(set) var loss: Float = 0
    private(set) var count = 0
    /// Each element's loss in the last forward pass, where the mask keeps it: what
    /// `sampleLosses` averages (computing them again took most of the diagnostics' time).
    let elementLosses: UnsafeMutablePointer<Float>
    var rowsAcrossProcesses: Int?
    private(set) var divisor = 0

    init(_ function: L, logits: Tensor, targets: Tensor, mask: Tensor, weight: Float,
         elementLosses: UnsafeMutablePointer<Float>) {
        precondition(logits.sampleSize == targets.sampleSize && logits.sampleSize == mask.sampleSize)
        self.function = function
        self.logits = logits
        self.targets = targets
        self.mask = mask
        self.weight = weight
        self.elementLosses = elementLosses
    }

    func forward(batch: Int, mode: PassMode) {
        let z = logits.data, y = targets.data, m = mask.data
        var sum: Double = 0, kept = 0
        for i in 0..<(batch * logits.sampleSize) where m[i] != 0 {
            let loss = function.loss(z[i], y[i])
            elementLosses[i] = loss
            sum += Double(loss)
            kept += 1
        }
        count = kept
        divisor = rowsAcrossProcesses ?? kept
        rowsAcrossProcesses = nil
        loss = divisor == 0 ? 0 : Float(sum / Double(divisor))
    }

    func countKept(batch: Int) -> Int {
        let m = mask.data
        var kept = 0
        for i in 0..<(batch * mask.sampleSize) where m[i] != 0 { kept += 1 }
        return kept
    }

    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        let m = mask.data, size = logits.sampleSize
        for b in 0..<batch {
            var sum: Double = 0, kept = 0
            for i in (b * size)..<((b + 1) * size) where m[i] != 0 {
                sum += Double(elementLosses[i])
                kept += 1
            }
            losses[b] = kept == 0 ? .nan : Float(sum / Double(kept))
        }
    }

    func backward(batch: Int) {
        guard count > 0, let dz = logits.grad else { return }
        let z = logits.data, y = targets.data, m = mask.data
        let scale = weight / Float(divisor)
        for i in 0..<(batch * logits.sampleSize) where m[i] != 0 {
            dz[i] += scale * function.gradient(z[i], y[i])
        }
    }
}

extension PlanBuilder {
    func elementLoss<L: ElementLoss>(_ function: L, logits: Tensor, targets: Tensor, mask: Tensor,
                                     weight: Float) -> any MaskedLoss {
        let op = ElementwiseLossOp(function, logits: logits, targets: targets, mask: mask, weight: weight,
                                   elementLosses: scratch(maxBatch * logits.sampleSize))
        add(op)
        return op
    }
}
