import AllocationCounter
import Testing
@testable import Engine

/// The steady-state training step — forward, backward, clipping, optimiser — allocates nothing.
/// Measured on optimised code, as users run it (`make test` builds the tests with `-c release`):
/// unoptimised Swift allocates in places the optimiser removes.
struct AllocationTests {
    @Test func steadyStateStepAllocatesNothing() {
        // Two pool threads, so that the parallel loops' hand-over is measured too.
        let b = PlanBuilder(maxBatch: 16, pool: ThreadPool(threads: 2))
        let image = b.input([32, 32, 3]), features = b.input([5])
        var h = b.relu(b.batchNorm(b.conv2d(image, filters: 4, kernel: 3, padding: .same, name: "c"), name: "bn"))
        h = b.maxPool(h, size: 2, stride: 2)
        h = b.batchNormReLUMaxPool(b.conv2d(h, filters: 4, kernel: 3, padding: .same, name: "c2"), name: "bnp")
        h = b.relu(b.conv2d(h, filters: 20, kernel: 3, stride: 1, padding: .same, bias: true, initialization: .glorot,
                            method: .winograd, name: "w"))
        // A ResNet-style block: no conv bias, a projection shortcut, padded max pooling.
        h = b.residual(h, { b.conv2d($0, filters: 6, kernel: 3, stride: 2, padding: .zeros(1), bias: false, name: "r") },
                       shortcut: { b.conv2d($0, filters: 6, kernel: 1, stride: 2, bias: false, name: "s") })
        h = b.globalAvgPool(b.maxPool(h, size: 3, stride: 2, padding: 1))
        let joined = b.concat([h, features])
        let trunk = b.dropout(b.gelu(b.layerNorm(b.dense(joined, units: 16, name: "d"), name: "ln")), rate: 0.1)
        let labels = b.input([1]), classes = b.input([1]), mask = b.input([1])
        _ = b.binaryCrossEntropy(logits: b.dense(trunk, units: 1, name: "bin"), targets: labels, mask: mask)
        _ = b.softmaxCrossEntropy(logits: b.dense(trunk, units: 3, name: "cls"), targets: classes, mask: mask)
        let plan = b.build(seed: 1)
        for i in 0..<16 { (labels.data[i], classes.data[i], mask.data[i]) = (Float(i % 2), Float(i % 3), 1) }
        let adam = Adam(plan: plan, weightDecay: 0.01, decoupled: true)
        let schedule = LearningRateSchedule(base: 0.001, shape: .cosine(minimumFactor: 0), warmupEpochs: 1, epochs: 5)
        func step(_ n: Int) {
            plan.forward(batch: 16, mode: .training)
            plan.backward(batch: 16)
            GradientClipping.clip(plan, maxNorm: 1)
            adam.step(learningRate: schedule.rate(epoch: n / 20, step: n % 20, stepsPerEpoch: 20))
        }
        for n in 0..<5 { step(n) }
        let before = allocation_count_this_thread()
        for n in 5..<105 { step(n) }
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 100 steps")
        // The counter does count: an array allocates.
        let probe = [Int](repeating: 1, count: 100)
        #expect(allocation_count_this_thread() > after && probe.count == 100)
    }

    /// The sequence ops too: texts of every length padded to L, embedded, through a transformer
    /// block with dropout (attention's own included), conv1d and pooling, on two threads.
    @Test func steadyStateStepOfASequenceModelAllocatesNothing() {
        let (batch, length) = (16, 12)
        let b = PlanBuilder(maxBatch: batch, pool: ThreadPool(threads: 2))
        let ids = b.input([length])
        for n in 0..<batch { for t in 0..<length { ids.data[n * length + t] = t < n % (length + 1) ? Float(1 + (n * t) % 30) : 0 } }
        let mask = b.sequenceMask(ids)
        var h = b.positionalEmbedding(b.embedding(ids, vocabulary: 32, dimension: 16, name: "e"), name: "p")
        h = b.transformerBlock(h, heads: 4, hidden: 32, dropout: 0.1, mask: mask, name: "t")
        h = b.conv1d(h, filters: 16, kernel: 3, dilation: 2, mask: mask, name: "c")
        let pooled = b.concat([b.sequencePool(h, mode: .mean, mask: mask), b.sequencePool(h, mode: .max, mask: mask),
                               b.sequencePool(h, mode: .first, mask: mask)])
        let labels = b.input([1]), rowMask = b.input([1])
        _ = b.binaryCrossEntropy(logits: b.dense(pooled, units: 1, name: "bin"), targets: labels, mask: rowMask)
        let plan = b.build(seed: 1)
        for n in 0..<batch { (labels.data[n], rowMask.data[n]) = (Float(n % 2), 1) }
        let adam = Adam(plan: plan, weightDecay: 0.01, decoupled: true)
        func step() {
            plan.forward(batch: batch, mode: .training)
            plan.backward(batch: batch)
            GradientClipping.clip(plan, maxNorm: 1)
            adam.step(learningRate: 0.001)
        }
        for _ in 0..<5 { step() }
        let before = allocation_count_this_thread()
        for _ in 0..<100 { step() }
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 100 steps")
    }

    /// Sums over a batch of two equal parts, in place: a stand-in for the processes'.
    final class TwoEqualParts: BatchParts {
        var addsBatchTerms: Bool { true }
        func sum(_ values: UnsafeMutablePointer<Float>, count: Int) { for i in 0..<count { values[i] *= 2 } }
        func sum(_ values: UnsafeMutablePointer<Double>, count: Int) { for i in 0..<count { values[i] *= 2 } }
    }

    /// A step of a plan whose batches are split into parts, as under mpirun: batchnorm's and
    /// DWA's sums over the parts are taken in place, and dropout reseeded for the step, without
    /// allocating.
    @Test func splitStepAllocatesNothing() {
        let b = PlanBuilder(maxBatch: 16, pool: ThreadPool(threads: 2))
        let image = b.input([8, 8, 3])
        let h = b.relu(b.batchNorm(b.conv2d(image, filters: 4, kernel: 3, padding: .same, name: "c"), name: "bn"))
        let trunk = b.dropout(b.batchNorm(b.dense(b.flatten(h), units: 8, name: "d"), name: "bn2"), rate: 0.1)
        let labels = b.input([1]), mask = b.input([1])
        let losses = [b.binaryCrossEntropy(logits: b.dense(trunk, units: 1, name: "a"), targets: labels, mask: mask),
                      b.binaryCrossEntropy(logits: b.dense(trunk, units: 1, name: "b"), targets: labels, mask: mask)]
        b.dynamicWeightAverage(losses, temperature: 2, name: "dwa")
        let plan = b.build(seed: 1)
        plan.splitBatches(into: TwoEqualParts())
        for i in 0..<16 { (labels.data[i], mask.data[i]) = (Float(i % 2), 1) }
        let adam = Adam(plan: plan)
        func step(_ n: Int) {
            plan.reseedOps(UInt64(n))
            for loss in losses { loss.rowsAcrossProcesses = 2 * loss.countKept(batch: 16) }
            plan.forward(batch: 16, mode: .training)
            plan.backward(batch: 16)
            adam.step(learningRate: 0.001)
        }
        for n in 0..<5 { step(n) }
        let before = allocation_count_this_thread()
        for n in 5..<105 { step(n) }
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 100 steps")
    }
}
