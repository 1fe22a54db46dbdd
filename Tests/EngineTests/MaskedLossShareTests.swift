import Testing
@testable import Engine

/// A batch split in two parts, as two processes train it: each part's loss divided by the rows
/// kept in both parts is its share, and the shares and their gradients add up to the whole
/// batch's loss and gradient; a part that keeps no row adds 0, never NaN.
struct MaskedLossShareTests {
    typealias Kind = LossTests.Kind

    /// The whole batch's plan and two plans of half its size, holding the same rows.
    private static func plans(_ kind: Kind, batch: Int, keep: (Int) -> Bool)
        -> (whole: LossTests.LossPlan, parts: [LossTests.LossPlan]) {
        let whole = LossTests.makePlan(kind, batch: batch, weight: 1.5)
        LossTests.fillTargetsAndMask(whole, kind, batch: batch, keep: keep)
        var random = Random(seed: 4)
        for i in 0..<(batch * whole.logits.sampleSize) { whole.logits.data[i] = random.uniform() * 6 - 3 }
        let half = batch / 2
        let parts = (0..<2).map { part in
            let p = LossTests.makePlan(kind, batch: half, weight: 1.5)
            for (tensor, from) in [(p.logits, whole.logits), (p.targets, whole.targets), (p.mask, whole.mask)] {
                let size = tensor.sampleSize
                for i in 0..<(half * size) { tensor.data[i] = from.data[part * half * size + i] }
            }
            return p
        }
        return (whole, parts)
    }

    /// Runs each part as its process would: the kept rows summed over the parts, then forward
    /// and backward. Returns the sum of the parts' losses.
    private static func trainParts(_ parts: [LossTests.LossPlan], batch: Int) throws -> Float {
        let losses = try parts.map { try #require($0.plan.losses[0] as? any MaskedLoss) }
        let kept = losses.reduce(0) { $0 + $1.countKept(batch: batch) }
        var sum: Float = 0
        for (p, loss) in zip(parts, losses) {
            loss.rowsAcrossProcesses = kept
            p.plan.forward(batch: batch, mode: .training)
            p.plan.backward(batch: batch)
            #expect(loss.divisor == kept && loss.rowsAcrossProcesses == nil)
            sum += loss.loss
        }
        return sum
    }

    @Test(arguments: Kind.allCases)
    func sharesAddUpToTheBatchsLossAndGradient(_ kind: Kind) throws {
        let (whole, parts) = Self.plans(kind, batch: 6) { $0 % 3 != 1 }
        whole.plan.forward(batch: 6, mode: .training)
        whole.plan.backward(batch: 6)
        let shares = try Self.trainParts(parts, batch: 3)
        #expect(abs(shares - whole.loss.loss) <= 1e-6 * max(1, abs(whole.loss.loss)), "\(kind)")
        let expected = try #require(whole.logits.gradients(batch: 6))
        let gradients = try parts.flatMap { try #require($0.logits.gradients(batch: 3)) }
        for (e, g) in zip(expected, gradients) { #expect(abs(e - g) <= 1e-6 * max(1, abs(e)), "\(kind)") }
    }

    @Test(arguments: Kind.allCases)
    func aPartKeepingNoRowAddsNothing(_ kind: Kind) throws {
        // Only rows of the second part are kept.
        let (_, parts) = Self.plans(kind, batch: 6) { i in i >= 3 * Self.maskWidth(kind) }
        _ = try Self.trainParts(parts, batch: 3)
        #expect(parts[0].loss.loss == 0 && parts[0].loss.count == 0)
        #expect(try #require(parts[0].logits.gradients(batch: 3)).allSatisfy { $0 == 0 })
        #expect(parts[1].loss.loss.isFinite && parts[1].loss.loss > 0, "\(kind)")
    }

    /// Mask entries per row.
    private static func maskWidth(_ kind: Kind) -> Int { kind == .multilabel ? 3 : 1 }
}
