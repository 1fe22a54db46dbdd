import Foundation
import Testing
@testable import Engine

/// A batch split into parts, as the processes of a data-parallel training compute it, against
/// the whole batch in one plan: with their sums taken over every part (`BatchParts`), batchnorm
/// normalises each part with the batch's statistics and keeps the batch's running statistics,
/// and the loss balancers keep the state the whole batch gives them, the same in every part.
/// The parts run on threads of their own, in step (`ThreadedParts`), and of unequal sizes.
///
/// Tolerance: the parts add their sums in another order than the whole batch does (each part's,
/// then the parts'), so floats differ in their last digits; 1e-5 relative (absolute near 0)
/// leaves room for that over a few steps and none for a missing sum or a wrong count, which
/// change the results in their first digits.
struct SplitBatchTests {
    static let tolerance: Float = 1e-5

    static func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= tolerance * max(1, abs(a)) }

    /// The whole batch's rows [start, start + count) of a tensor filled for the whole batch.
    static func copy(_ from: Tensor, rows: Range<Int>, into to: Tensor) {
        let size = from.sampleSize
        (to.data).update(from: from.data + rows.lowerBound * size, count: rows.count * size)
    }

    // MARK: Batchnorm

    /// x (with a gradient, `shape` per sample) → batchnorm (with its ReLU and 2 × 2 max pooling
    /// when `pooled`) → a squared loss against targets, on a pool of its own (parts run on
    /// threads of their own).
    struct NormPlan {
        let plan: Plan
        let x: Tensor, y: Tensor, targets: Tensor, mask: Tensor
        let loss: any MaskedLoss

        init(batch: Int, shape: [Int], pooled: Bool = false) {
            let b = PlanBuilder(maxBatch: batch, pool: ThreadPool(threads: 1))
            x = b.tensor(shape)
            y = pooled ? b.batchNormReLUMaxPool(x, momentum: 0.3, name: "bn") : b.batchNorm(x, momentum: 0.3, name: "bn")
            (targets, mask) = (b.input(y.shape), b.input(y.shape))
            loss = b.regressionLoss(logits: y, targets: targets, mask: mask, distance: .squared)
            plan = b.build(seed: 1)
            // A weight and bias of their own, so that backward's sums meet them.
            var random = Random(seed: 5)
            for i in 0..<plan.parameterCount { plan.values[i] = 1 + random.normal() / 2 }
        }
    }

    /// Parts of 2 and 3 rows; and parts of which one is empty, as under mpirun a process may
    /// hold none of a batch's rows: it takes part in every sum with zeros, and the batch's rows
    /// counted over the parts divide.
    @Test(arguments: [[3], [2, 2, 3]], [[2, 3], [0, 5], [3, 0, 2]])
    func batchnormOverPartsIsTheWholeBatchs(_ shape: [Int], _ sizes: [Int]) throws {
        try checkParts(shape: shape, sizes: sizes, pooled: false)
    }

    /// The same with batchnorm's ReLU and 2 × 2 max pooling in the op.
    @Test(arguments: [[2, 3], [0, 5], [3, 0, 2]])
    func pooledBatchnormOverPartsIsTheWholeBatchs(_ sizes: [Int]) throws {
        try checkParts(shape: [4, 6, 3], sizes: sizes, pooled: true)
    }

    func checkParts(shape: [Int], sizes: [Int], pooled: Bool) throws {
        let batch = sizes.reduce(0, +)
        let whole = NormPlan(batch: batch, shape: shape, pooled: pooled)
        var random = Random(seed: 9)
        let channels = shape.last ?? 1
        for i in 0..<(batch * whole.x.sampleSize) {
            whole.x.data[i] = Float(i % channels) * 2 + random.normal()  // a mean of its own per channel
        }
        for i in 0..<(batch * whole.y.sampleSize) {
            whole.targets.data[i] = random.normal()
            whole.mask.data[i] = i % 5 == 0 ? 0 : 1
        }
        // A plan holds at least one row: an empty part's takes none of them.
        let parts = sizes.map { NormPlan(batch: max($0, 1), shape: shape, pooled: pooled) }
        let threaded = ThreadedParts(count: parts.count)
        var start = 0
        for (index, (p, size)) in zip(parts, sizes).enumerated() {
            for tensor in [\NormPlan.x, \.targets, \.mask] {
                Self.copy(whole[keyPath: tensor], rows: start..<(start + size), into: p[keyPath: tensor])
            }
            p.plan.splitBatches(into: threaded.part(index))
            start += size
        }
        whole.plan.forward(batch: batch, mode: .training)
        whole.plan.backward(batch: batch)
        let kept = zip(parts, sizes).reduce(0) { $0 + $1.0.loss.countKept(batch: $1.1) }
        let handed = Handed(value: parts)
        threaded.run { index in
            let p = handed.value[index]
            p.loss.rowsAcrossProcesses = kept
            p.plan.forward(batch: sizes[index], mode: .training)
            p.plan.backward(batch: sizes[index])
        }
        // One sum forward (with the rows' count), one backward.
        #expect(threaded.rounds == 2)

        // Each part's outputs and input gradients are the whole batch's rows.
        let outputs = parts.enumerated().flatMap { Array($1.y.values(batch: sizes[$0])) }
        let inputGradients = try parts.enumerated().flatMap { try #require($1.x.gradients(batch: sizes[$0])) }
        for (e, a) in zip(whole.y.values(batch: batch), outputs) { #expect(Self.close(e, a), "output \(e) whole, \(a) in parts") }
        for (e, a) in zip(try #require(whole.x.gradients(batch: batch)), inputGradients) {
            #expect(Self.close(e, a), "input gradient \(e) whole, \(a) in parts")
        }
        // The running statistics are the batch's in every part, and the same in all.
        for (s, state) in whole.plan.state.enumerated() {
            for j in 0..<channels {
                #expect(Self.close(state.data[j], parts[0].plan.state[s].data[j]), "\(state.name)[\(j)]")
                for p in parts.dropFirst() {
                    #expect(parts[0].plan.state[s].data[j] == p.plan.state[s].data[j], "\(state.name)[\(j)]")
                }
            }
        }
        // The weight's and bias's gradients are each part's share: summed, the batch's.
        for i in 0..<whole.plan.parameterCount {
            let summed = parts.reduce(Float(0)) { $0 + $1.plan.gradients[i] }
            #expect(Self.close(whole.plan.gradients[i], summed), "parameter gradient \(i)")
        }
    }

    // MARK: Loss balancers

    enum Weighting: String, CaseIterable { case uncertainty, dwa, gradnorm }

    /// x → a shared layer → two heads with squared losses; task b is kept on some rows only.
    struct BalancedPlan {
        let plan: Plan
        let x: Tensor
        let targets: [Tensor], masks: [Tensor]
        let losses: [any MaskedLoss]

        init(_ weighting: Weighting, batch: Int) {
            let b = PlanBuilder(maxBatch: batch, pool: ThreadPool(threads: 1))
            x = b.input([4])
            let shared = b.dense(x, units: 3, name: "shared")
            let taps = weighting == .gradnorm ? b.gradientTaps(shared, count: 2) : [shared, shared]
            var targets: [Tensor] = [], masks: [Tensor] = [], losses: [any MaskedLoss] = []
            for (k, weight) in [Float(1), 3].enumerated() {
                let (y, m) = (b.input([1]), b.input([1]))
                (targets, masks) = (targets + [y], masks + [m])
                losses.append(b.regressionLoss(logits: b.dense(taps[k], units: 1, name: "head\(k)"), targets: y, mask: m,
                                               distance: .squared, weight: weight))
            }
            switch weighting {
            case .uncertainty: b.uncertaintyWeighting(losses, name: "s")
            case .dwa: b.dynamicWeightAverage(losses, temperature: 2, name: "dwa")
            case .gradnorm: b.gradNorm(losses, taps: taps, alpha: 1.5, rate: 0.1, name: "gradnorm")
            }
            (self.targets, self.masks, self.losses) = (targets, masks, losses)
            plan = b.build(seed: 2)
        }

        /// Gradient descent on the trainable block.
        func step(_ rate: Float) {
            for i in 0..<plan.trainableCount { plan.values[i] -= rate * plan.gradients[i] }
        }
    }

    @Test(arguments: Weighting.allCases)
    func balancersOverPartsKeepTheWholeBatchsState(_ weighting: Weighting) throws {
        let sizes = [4, 2], batch = sizes.reduce(0, +)
        let whole = BalancedPlan(weighting, batch: batch)
        let parts = sizes.map { BalancedPlan(weighting, batch: $0) }
        let threaded = ThreadedParts(count: parts.count)
        for (index, p) in parts.enumerated() { p.plan.splitBatches(into: threaded.part(index)) }
        var random = Random(seed: 7)
        let handed = Handed(value: parts)
        for step in 1...8 {
            for n in 0..<batch {
                for f in 0..<4 { whole.x.data[4 * n + f] = random.normal() }
                whole.targets[0].data[n] = whole.x.data[4 * n] + random.normal() / 4
                whole.targets[1].data[n] = 10 * whole.x.data[4 * n + 1]
                whole.masks[0].data[n] = 1
                // Task b: kept on 3, 2 or 1 of the 4 rows of the first part, never in the second,
                // so the parts keep different counts and one of them none.
                whole.masks[1].data[n] = n < sizes[0] && n < 4 - step % 3 ? 1 : 0
            }
            var start = 0
            for (p, size) in zip(parts, sizes) {
                Self.copy(whole.x, rows: start..<(start + size), into: p.x)
                for k in 0..<2 {
                    Self.copy(whole.targets[k], rows: start..<(start + size), into: p.targets[k])
                    Self.copy(whole.masks[k], rows: start..<(start + size), into: p.masks[k])
                }
                start += size
            }
            whole.plan.forward(batch: batch, mode: .training)
            whole.plan.backward(batch: batch)
            whole.step(0.05)
            let kept = (0..<2).map { k in zip(parts, sizes).reduce(0) { $0 + $1.0.losses[k].countKept(batch: $1.1) } }
            threaded.run { index in
                let p = handed.value[index]
                for k in 0..<2 { p.losses[k].rowsAcrossProcesses = kept[k] }
                p.plan.forward(batch: sizes[index], mode: .training)
                p.plan.backward(batch: sizes[index])
            }
            // The gradient reduction: every part steps with the parts' gradients summed.
            for i in 0..<whole.plan.trainableCount {
                let sum = parts[0].plan.gradients[i] + parts[1].plan.gradients[i]
                for p in parts { p.plan.gradients[i] = sum }
            }
            for p in parts { p.step(0.05) }
            if step % 2 == 0 { ([whole] + parts).forEach { $0.plan.endEpoch() } }
        }
        // The balancer's state and every weight (uncertainty's log-variances among them): the
        // whole batch's, and the same in both parts.
        for (s, state) in whole.plan.state.enumerated() {
            for i in 0..<state.shape.reduce(1, *) {
                let (e, a, b) = (state.data[i], parts[0].plan.state[s].data[i], parts[1].plan.state[s].data[i])
                #expect(e.isNaN ? a.isNaN : Self.close(e, a), "\(weighting) \(state.name)[\(i)]: \(e) whole, \(a) in parts")
                #expect(a.bitPattern == b.bitPattern, "\(weighting) \(state.name)[\(i)] differs between the parts")
            }
        }
        for i in 0..<whole.plan.parameterCount {
            #expect(Self.close(whole.plan.values[i], parts[0].plan.values[i]),
                    "\(weighting) parameter \(i): \(whole.plan.values[i]) whole, \(parts[0].plan.values[i]) in parts")
            #expect(parts[0].plan.values[i] == parts[1].plan.values[i])
        }
        // The task weights the balancer set in the last step.
        for k in 0..<2 { #expect(Self.close(whole.losses[k].weight, parts[0].losses[k].weight), "\(weighting) weight \(k)") }
    }
}
