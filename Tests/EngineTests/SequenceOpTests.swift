import Foundation
import Testing
@testable import Engine

/// The sequence ops with padding present: finite-difference gradients (as `OpGradientTests`),
/// attention against a naive reference, and pooled values by hand.
struct SequenceOpTests {
    /// Texts of L = 5 positions: one full, two shorter, one empty (all padding).
    static let lengths = [5, 3, 0, 1]
    static let length = 5

    /// Ids for `lengths`: tokens 3, 4, … then padding 0.
    static func paddedIDs(_ b: PlanBuilder, lengths: [Int] = lengths, length: Int = length) -> Tensor {
        let ids = b.input([length])
        for (n, count) in lengths.enumerated() {
            for t in 0..<length { ids.data[n * length + t] = t < count ? Float(3 + (n + t) % 4) : 0 }
        }
        return ids
    }

    func expectSmall(_ report: GradientReport, _ name: String) {
        #expect(report.worst < OpGradientTests.tolerance, "\(name): \(report)")
        #expect(report.checked > 0)
    }

    @Test func maskFromIDs() {
        let b = PlanBuilder(maxBatch: 4)
        let mask = b.sequenceMask(Self.paddedIDs(b))
        let plan = b.build(seed: 1)
        plan.forward(batch: 4, mode: .evaluation)
        #expect(Array(mask.keep.values(batch: 4)) == [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect((0..<4).map { mask.extent($0) } == [5, 3, 0, 1])
    }

    @Test func positional() {
        expectSmall(checkGradients(batch: 4, inputs: [[Self.length, 3]]) { b, x in
            let mask = b.sequenceMask(Self.paddedIDs(b))
            b.project(b.sequencePool(b.positionalEmbedding(x[0], name: "p"), mode: .mean, mask: mask))
        }, "positional")
    }

    @Test(arguments: [(3, 1, true), (2, 2, true), (4, 1, false), (1, 1, true)])
    func conv1d(_ kernel: Int, _ dilation: Int, _ bias: Bool) {
        expectSmall(checkGradients(batch: 4, inputs: [[Self.length, 3]]) { b, x in
            let mask = b.sequenceMask(Self.paddedIDs(b))
            b.project(b.conv1d(x[0], filters: 2, kernel: kernel, dilation: dilation, bias: bias, mask: mask, name: "c"))
        }, "conv1d kernel \(kernel) dilation \(dilation) bias \(bias)")
    }

    /// Token classification's loss: a dense layer per position, then softmax cross-entropy at
    /// each position the mask keeps — the padded texts' tokens (targets −1 at padding) of every
    /// row but the last, which its precondition drops. Finite differences agree, padded and
    /// dropped positions get exactly no gradient, and the divisor is the kept tokens (8).
    @Test func tokenClassificationLoss() {
        let keptRows = 3
        func fillTargets(_ targets: Tensor, _ mask: Tensor) {
            for (n, count) in Self.lengths.enumerated() {
                for t in 0..<Self.length {
                    let i = n * Self.length + t
                    targets.data[i] = t < count ? Float((n + 2 * t) % 3) : -1
                    mask.data[i] = t < count && n < keptRows ? 1 : 0
                }
            }
        }
        expectSmall(checkGradients(batch: 4, inputs: [[Self.length, 4]]) { b, x in
            let targets = b.input([Self.length]), mask = b.input([Self.length])
            fillTargets(targets, mask)
            _ = b.softmaxCrossEntropy(logits: b.dense(x[0], units: 3, name: "tags"), targets: targets, mask: mask, weight: 0.6)
        }, "token classification")

        let b = PlanBuilder(maxBatch: 4)
        let x = b.tensor([Self.length, 4]), targets = b.input([Self.length]), mask = b.input([Self.length])
        let loss = b.softmaxCrossEntropy(logits: b.dense(x, units: 3, name: "tags"), targets: targets, mask: mask)
        let plan = b.build(seed: 2)
        fillTargets(targets, mask)
        var random = Random(seed: 3)
        for i in 0..<(4 * x.sampleSize) { x.data[i] = random.uniform() * 2 - 1 }
        plan.forward(batch: 4, mode: .training)
        plan.backward(batch: 4)
        #expect(loss.count == 8 && loss.divisor == 8)
        let gradients = x.gradients(batch: 4)!
        for position in 0..<(4 * Self.length) {
            let row = gradients[(position * 4)..<((position + 1) * 4)]
            #expect(row.allSatisfy { $0 == 0 } == (mask.data[position] == 0), "position \(position)")
        }
    }

    /// The op (im2col, sgemm, col2im) computes what the plain loops compute: values, and
    /// input, weight and bias gradients.
    @Test func conv1dEqualsItsReference() {
        let (filters, kernel, dilation, channels) = (3, 3, 2, 4)
        let b = PlanBuilder(maxBatch: 4)
        let mask = b.sequenceMask(Self.paddedIDs(b))
        let x = b.tensor([Self.length, channels])
        let y = b.conv1d(x, filters: filters, kernel: kernel, dilation: dilation, mask: mask, name: "c")
        b.project(y)
        let plan = b.build(seed: 2)
        for i in 0..<(4 * x.sampleSize) { x.data[i] = Float((i * 37) % 23) * 0.1 - 1 }
        plan.forward(batch: 4, mode: .training)
        plan.backward(batch: 4)
        let g = Conv1DGeometry(length: Self.length, channels: channels, kernel: kernel, dilation: dilation)
        let (weight, bias) = (plan.parameters[0], plan.parameters[1])
        var expected = [Float](repeating: 0, count: 4 * y.sampleSize)
        conv1dForwardReference(&expected, x.data, weight.value, bias.value, mask, g, filters: filters, batch: 4)
        var dinp = [Float](repeating: 0, count: 4 * x.sampleSize)
        var dweight = [Float](repeating: 0, count: weight.count), dbias = [Float](repeating: 0, count: filters)
        conv1dBackwardReference(&dinp, &dweight, &dbias, y.grad!, x.data, weight.value, mask, g, filters: filters, batch: 4)
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 } }
        #expect(close(Array(y.values(batch: 4)), expected))
        #expect(close(Array(x.gradients(batch: 4)!), dinp))
        #expect(close((0..<weight.count).map { weight.grad[$0] }, dweight))
        #expect(close((0..<filters).map { bias.grad[$0] }, dbias))
        // The empty text's outputs, and every padded position's, are zeros.
        #expect(y.values(batch: 4)[(2 * Self.length) * filters..<(3 * Self.length) * filters].allSatisfy { $0 == 0 })
    }

    /// Attention and the transformer block chain softmaxes, layernorms and products, so the
    /// float32 rounding in L is near 1e-4 · |L| / h; they have no kinks, so h = 1e-2 (truncation
    /// O(h²)) keeps the comparison above that noise. A wrong term gives errors near 0.5.
    @Test(arguments: [1, 2])
    func attention(_ heads: Int) {
        for (mode, dropout) in [(PassMode.training, Float(0)), (.training, 0.3), (.evaluation, 0.3)] {
            expectSmall(checkGradients(batch: 4, step: 1e-2, mode: mode, inputs: [[Self.length, 4]]) { b, x in
                let mask = b.sequenceMask(Self.paddedIDs(b))
                b.project(b.multiHeadAttention(x[0], heads: heads, mask: mask, dropout: dropout, name: "a"))
            }, "attention, \(heads) heads, dropout \(dropout) \(mode)")
        }
    }

    @Test func transformer() {
        for (mode, dropout) in [(PassMode.training, Float(0.2)), (.evaluation, 0.2), (.training, 0)] {
            expectSmall(checkGradients(batch: 4, step: 1e-2, mode: mode, inputs: [[Self.length, 4]]) { b, x in
                let mask = b.sequenceMask(Self.paddedIDs(b))
                let y = b.transformerBlock(x[0], heads: 2, hidden: 6, dropout: dropout, mask: mask, name: "t")
                b.project(b.sequencePool(y, mode: .mean, mask: mask), seed: 1)
                b.project(y, seed: 2)
            }, "transformer, dropout \(dropout) \(mode)")
        }
    }

    @Test func pool() {
        for mode in [SequencePoolMode.mean, .max, .first] {
            expectSmall(checkGradients(batch: 4, inputs: [[Self.length, 3]], fill: OpGradientTests.distinct) { b, x in
                b.project(b.sequencePool(x[0], mode: mode, mask: b.sequenceMask(Self.paddedIDs(b))))
            }, "pool \(mode)")
        }
    }

    /// Three texts of L = 3: a full one, one of two tokens (its third position holds values that
    /// must not count), an empty one.
    @Test func poolValuesByHand() {
        let rows: [[Float]] = [[1, 2, 3, -1, -2, 5], [4, 0, 2, 6, 9, 9], [7, 7, 7, 7, 7, 7]]
        let expected: [SequencePoolMode: [Float]] = [
            .mean: [2.0 / 3, 2, 3, 3, 0, 0],
            .max: [3, 5, 4, 6, 0, 0],
            .first: [1, 2, 4, 0, 0, 0],
        ]
        for (mode, values) in expected {
            let b = PlanBuilder(maxBatch: 3)
            let mask = b.sequenceMask(Self.paddedIDs(b, lengths: [3, 2, 0], length: 3))
            let x = b.input([3, 2])
            let y = b.sequencePool(x, mode: mode, mask: mask)
            let plan = b.build(seed: 1)
            for (n, row) in rows.enumerated() { for i in 0..<6 { x.data[n * 6 + i] = row[i] } }
            plan.forward(batch: 3, mode: .evaluation)
            #expect(zip(y.values(batch: 3), values).allSatisfy { abs($0 - $1) < 1e-6 }, "\(mode): \(Array(y.values(batch: 3)))")
        }
    }

    /// Multi-head attention as written in the textbooks, in double precision, from the plan's
    /// weights: the plan's output (projections, masked softmax, output projection) equals it
    /// to 1e-6, padded positions and the empty text included.
    @Test(arguments: [(8, 1), (8, 2), (12, 4)])
    func attentionEqualsANaiveReference(_ d: Int, _ heads: Int) {
        let (batch, length) = (4, Self.length)
        let b = PlanBuilder(maxBatch: batch, pool: ThreadPool(threads: 2))
        let mask = b.sequenceMask(Self.paddedIDs(b))
        let x = b.input([length, d])
        let y = b.multiHeadAttention(x, heads: heads, mask: mask, name: "a")
        let plan = b.build(seed: 3)
        var random = Random(seed: 4)
        for i in 0..<(batch * x.sampleSize) { x.data[i] = random.uniform() * 2 - 1 }
        plan.forward(batch: batch, mode: .evaluation)
        func values(_ name: String) -> [Double] {
            let p = plan.parameters.first { $0.name == name }!
            return (0..<p.count).map { Double(p.value[$0]) }
        }
        let (wqkv, bqkv, wo, bo) = (values("a.qkv.weight"), values("a.qkv.bias"), values("a.out.weight"), values("a.out.bias"))
        let dh = d / heads
        var worst = 0.0
        for n in 0..<batch {
            let count = Self.lengths[n]
            let input = (0..<length).map { t in (0..<d).map { Double(x.data[(n * length + t) * d + $0]) } }
            // q, k, v of every position: rows of W (3d, d) times x, plus bias.
            let projected = input.map { row in (0..<(3 * d)).map { o in bqkv[o] + (0..<d).reduce(0.0) { $0 + wqkv[o * d + $1] * row[$1] } } }
            for t in 0..<length {
                var context = [Double](repeating: 0, count: d)
                if t < count {
                    for h in 0..<heads {
                        let scores = (0..<count).map { j in
                            (0..<dh).reduce(0.0) { $0 + projected[t][h * dh + $1] * projected[j][d + h * dh + $1] } / Double(dh).squareRoot()
                        }
                        let weights = scores.map { exp($0) }, total = weights.reduce(0, +)
                        for j in 0..<count {
                            for c in 0..<dh { context[h * dh + c] += weights[j] / total * projected[j][2 * d + h * dh + c] }
                        }
                    }
                }
                for o in 0..<d {
                    let expected = t < count ? bo[o] + (0..<d).reduce(0.0) { $0 + wo[o * d + $1] * context[$1] } : 0
                    worst = max(worst, abs(expected - Double(y.data[(n * length + t) * d + o])))
                }
            }
        }
        #expect(worst < 1e-6, "d \(d), \(heads) heads: worst difference \(worst)")
    }

    /// The op's matrix products over each text's extent compute what the plain loops over every
    /// position compute, forward and backward, to 1e-6.
    @Test func attentionKernelEqualsItsReference() {
        let (batch, length, d, heads) = (4, Self.length, 6, 3)
        let b = PlanBuilder(maxBatch: batch, pool: ThreadPool(threads: 1))
        let mask = b.sequenceMask(Self.paddedIDs(b))
        let qkv = b.tensor([length, 3 * d])
        let context = b.tensor([length, d])
        let blocks = batch * heads * length * length
        let op = AttentionOp(input: qkv, output: context, mask: mask, heads: heads, rate: 0, probabilities: b.scratch(blocks),
                             dropoutFactors: nil, scratch: b.scratch(2 * length * length), pool: b.pool, stream: 1)
        b.add(op)
        b.project(context)
        let plan = b.build(seed: 5)
        var random = Random(seed: 6)
        for i in 0..<(batch * qkv.sampleSize) { qkv.data[i] = random.uniform() * 2 - 1 }
        plan.forward(batch: batch, mode: .training)
        plan.backward(batch: batch)
        var ctx = [Float](repeating: 0, count: batch * context.sampleSize)
        var probabilities = [Float](repeating: 0, count: blocks)
        attentionForwardReference(&ctx, &probabilities, qkv.data, mask, heads: heads, features: d, batch: batch)
        var dqkv = [Float](repeating: 0, count: batch * qkv.sampleSize)
        attentionBackwardReference(&dqkv, context.grad!, qkv.data, probabilities, mask, heads: heads, features: d,
                                   batch: batch)
        let forward = zip(ctx, context.values(batch: batch)).map { abs($0 - $1) }.max() ?? 0
        let backward = zip(dqkv, qkv.gradients(batch: batch)!).map { abs($0 - $1) }.max() ?? 0
        #expect(forward < 1e-6 && backward < 1e-6, "forward \(forward), backward \(backward)")
        // Every probability row of a token sums to 1 over the text's tokens; the empty text has none.
        for n in 0..<batch {
            for i in 0..<Self.lengths[n] {
                let row = op.probabilities + ((n * heads) * length + i) * length
                #expect(abs((0..<Self.lengths[n]).reduce(Float(0)) { $0 + row[$1] } - 1) < 1e-6)
            }
        }
        #expect(context.values(batch: batch)[(2 * length * d)..<(3 * length * d)].allSatisfy { $0 == 0 })
    }

    /// A text's outputs do not depend on what its padded positions hold, nor on how far it is
    /// padded: the same three tokens padded to 5 and to 8 give the same pooled vector.
    @Test func paddingDoesNotLeakIntoTheOutputs() {
        func pooled(length: Int, paddingValue: Float) -> [Float] {
            let b = PlanBuilder(maxBatch: 1)
            let mask = b.sequenceMask(Self.paddedIDs(b, lengths: [3], length: length))
            let x = b.input([length, 4])
            var y = b.transformerBlock(x, heads: 2, hidden: 8, dropout: 0, mask: mask, name: "t")
            y = b.conv1d(y, filters: 4, kernel: 3, dilation: 2, mask: mask, name: "c")
            let out = b.sequencePool(b.multiHeadAttention(y, heads: 4, mask: mask, name: "a"), mode: .mean, mask: mask)
            let plan = b.build(seed: 7)
            for t in 0..<length { for c in 0..<4 { x.data[t * 4 + c] = t < 3 ? Float(t * 4 + c) * 0.1 - 0.5 : paddingValue } }
            plan.forward(batch: 1, mode: .evaluation)
            return Array(out.values(batch: 1))
        }
        let reference = pooled(length: 5, paddingValue: 0)
        #expect(pooled(length: 5, paddingValue: 100) == reference)
        #expect(zip(pooled(length: 8, paddingValue: -3), reference).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
