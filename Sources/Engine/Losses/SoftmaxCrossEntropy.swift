import Foundation

/// Softmax + cross-entropy from logits, per row of C classes (or per position for token
/// classification): l = logsumexp(z) − z[y], computed with the row's maximum subtracted so
/// that no exponential overflows; dl/dz = softmax(z) − onehot(y). Targets are class indices.
final class SoftmaxCrossEntropyOp: MaskedLoss {
    let logits: Tensor, targets: Tensor, mask: Tensor
    var inputs: [Tensor] { [logits] }
    let classes: Int
    var weight: Float
    private(set) var loss: Float = 0
    private(set) var count = 0
    /// Each row's loss in the last forward pass, where the mask keeps it: what `sampleLosses`
    /// averages.
    let rowLosses: UnsafeMutablePointer<Float>
    var rowsAcrossProcesses: Int?
    private(set) var divisor = 0

    init(logits: Tensor, targets: Tensor, mask: Tensor, weight: Float, rowLosses: UnsafeMutablePointer<Float>) {
        self.logits = logits
        self.targets = targets
        self.mask = mask
        self.weight = weight
        self.rowLosses = rowLosses
        classes = logits.shape.last!
        precondition(targets.sampleSize * classes == logits.sampleSize && mask.sampleSize == targets.sampleSize)
    }

    /// log Σ e^z over one row, stably.
    private func logSumExp(_ z: UnsafePointer<Float>) -> Float {
        var top = -Float.infinity
        for j in 0..<classes { top = max(top, z[j]) }
        var sum: Float = 0
        for j in 0..<classes { sum += expf(z[j] - top) }
        return top + logf(sum)
    }

    func forward(batch: Int, mode: PassMode) {
        var sum: Double = 0, kept = 0
        for r in 0..<(batch * targets.sampleSize) where mask.data[r] != 0 {
            let z = logits.data + r * classes
            let loss = logSumExp(z) - z[Int(targets.data[r])]
            rowLosses[r] = loss
            sum += Double(loss)
            kept += 1
        }
        count = kept
        divisor = rowsAcrossProcesses ?? kept
        rowsAcrossProcesses = nil
        loss = divisor == 0 ? 0 : Float(sum / Double(divisor))
    }

    func countKept(batch: Int) -> Int {
        var kept = 0
        for r in 0..<(batch * targets.sampleSize) where mask.data[r] != 0 { kept += 1 }
        return kept
    }

    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        let positions = targets.sampleSize
        for b in 0..<batch {
            var sum: Double = 0, kept = 0
            for r in (b * positions)..<((b + 1) * positions) where mask.data[r] != 0 {
                sum += Double(rowLosses[r])
                kept += 1
            }
            losses[b] = kept == 0 ? .nan : Float(sum / Double(kept))
        }
    }

    func backward(batch: Int) {
        guard count > 0, let dlogits = logits.grad else { return }
        let scale = weight / Float(divisor)
        for r in 0..<(batch * targets.sampleSize) where mask.data[r] != 0 {
            let z = logits.data + r * classes, dz = dlogits + r * classes
            let lse = logSumExp(z)
            for j in 0..<classes { dz[j] += scale * expf(z[j] - lse) }
            dz[Int(targets.data[r])] -= scale
        }
    }
}

extension PlanBuilder {
    /// `logits` is (…, C); `targets` and `mask` have one entry per row of C.
    public func softmaxCrossEntropy(logits: Tensor, targets: Tensor, mask: Tensor, weight: Float = 1) -> any MaskedLoss {
        let op = SoftmaxCrossEntropyOp(logits: logits, targets: targets, mask: mask, weight: weight,
                                       rowLosses: scratch(maxBatch * targets.sampleSize))
        add(op)
        return op
    }
}
