import Foundation
import Testing
@testable import Engine

/// The masked language model's fused output layer and loss: gradients by finite differences
/// with padded and unmasked positions present, the loss and outputs against a plain dense
/// layer and softmax cross-entropy computed by hand, and chunks that split the masked positions.
struct MaskedTokenPredictionTests {
    /// Texts of 5 positions (lengths 5, 3, 0, 1); of their tokens, these are masked.
    static let masked: Set<Int> = [0, 3, 4, 6, 15]
    static let vocabulary = 7

    static func fillTargets(_ targets: Tensor, _ mask: Tensor) {
        for i in 0..<(4 * 5) {
            let chosen = masked.contains(i)
            mask.data[i] = chosen ? 1 : 0
            targets.data[i] = chosen ? Float(3 + i % 4) : -1
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        let report = checkGradients(batch: 4, inputs: [[5, 3]]) { b, x in
            let targets = b.input([5]), mask = b.input([5])
            Self.fillTargets(targets, mask)
            _ = b.maskedTokenPrediction(x[0], vocabulary: Self.vocabulary, targets: targets, mask: mask, weight: 0.7,
                                        name: "mlm")
        }
        #expect(report.worst < OpGradientTests.tolerance, "\(report)")
        #expect(report.checked == 4 * 5 * 3 + Self.vocabulary * 3 + Self.vocabulary)
    }

    /// The mean over masked positions of logsumexp(z) − z[y], z = x·Wᵀ + b, and per position
    /// (top id right?, loss), (−1, 0) elsewhere.
    @Test func lossAndOutputsByHand() {
        let b = PlanBuilder(maxBatch: 4)
        let x = b.input([5, 3]), targets = b.input([5]), mask = b.input([5])
        let (output, loss) = b.maskedTokenPrediction(x, vocabulary: Self.vocabulary, targets: targets, mask: mask,
                                                     name: "mlm")
        let plan = b.build(seed: 3)
        var random = Random(seed: 9)
        for i in 0..<(4 * 15) { x.data[i] = random.uniform() * 2 - 1 }
        Self.fillTargets(targets, mask)
        plan.forward(batch: 4, mode: .training)
        let weight = plan.parameters.first { $0.name == "mlm.weight" }!, bias = plan.parameters.first { $0.name == "mlm.bias" }!
        var total = 0.0
        for i in 0..<20 {
            guard Self.masked.contains(i) else {
                #expect(output.data[2 * i] == -1 && output.data[2 * i + 1] == 0)
                continue
            }
            let z = (0..<Self.vocabulary).map { v in
                Double(bias.value[v]) + (0..<3).reduce(0.0) { $0 + Double(x.data[i * 3 + $1]) * Double(weight.value[v * 3 + $1]) }
            }
            let lse = log(z.map(exp).reduce(0, +)), y = Int(targets.data[i])
            let top = z.indices.max { z[$0] < z[$1] }!
            #expect(abs(Double(output.data[2 * i + 1]) - (lse - z[y])) < 1e-5)
            #expect(output.data[2 * i] == (top == y ? 1 : 0))
            total += lse - z[y]
        }
        #expect(abs(Double(loss.loss) - total / Double(Self.masked.count)) < 1e-5)
        #expect(loss.count == Self.masked.count)
        var losses = [Float](repeating: 0, count: 4)
        loss.sampleLosses(batch: 4, into: &losses)
        #expect(losses[2].isNaN)  // the empty text masks nothing
    }

    /// Chunks of 2 positions give the loss and gradients of one chunk.
    @Test func chunksSplitTheMaskedPositionsAlike() {
        func run(chunkRows: Int?) -> (Float, [Float]) {
            let b = PlanBuilder(maxBatch: 4)
            let x = b.tensor([5, 3]), targets = b.input([5]), mask = b.input([5])
            let (_, loss) = b.maskedTokenPrediction(x, vocabulary: Self.vocabulary, targets: targets, mask: mask, name: "m")
            let plan = b.build(seed: 3)
            if let chunkRows, let op = plan.ops.compactMap({ $0 as? MaskedTokenPredictionOp }).first {
                op.chunkRows = chunkRows
            }
            var random = Random(seed: 9)
            for i in 0..<(4 * 15) { x.data[i] = random.uniform() * 2 - 1 }
            Self.fillTargets(targets, mask)
            plan.forward(batch: 4, mode: .training)
            plan.backward(batch: 4)
            return (loss.loss, Array(x.grad!.values(count: 60)) + (0..<plan.parameterCount).map { plan.gradients[$0] })
        }
        let (whole, wholeGrads) = run(chunkRows: nil), (split, splitGrads) = run(chunkRows: 2)
        #expect(abs(whole - split) < 1e-6)
        #expect(zip(wholeGrads, splitGrads).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}

private extension UnsafeMutablePointer where Pointee == Float {
    func values(count: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: self, count: count) }
}
