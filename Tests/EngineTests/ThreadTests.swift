import Testing
@testable import Engine

/// The engine's own parallel loops give the same numbers at one and at two threads (no loop
/// sums across chunks), and their gradients stay right. BLAS stays at one thread here: OpenBLAS
/// does not promise the same rounding at different thread counts.
struct ThreadTests {
    /// A conv net big enough that every parallel loop really splits.
    func run(threads: Int) -> [Float] {
        let b = PlanBuilder(maxBatch: 16, pool: ThreadPool(threads: threads))
        let image = b.input([16, 16, 8]), label = b.input([1]), mask = b.input([1])
        var h = b.relu(b.batchNorm(b.conv2d(image, filters: 16, kernel: 3, padding: .same, name: "c1"), name: "bn"))
        h = b.avgPool(b.maxPool(h, size: 2, stride: 2), size: 2, stride: 1)
        h = b.globalAvgPool(b.gelu(b.conv2d(h, filters: 8, kernel: 3, stride: 2, padding: .zeros(1), name: "c2")))
        _ = b.softmaxCrossEntropy(logits: b.dense(h, units: 3, name: "out"), targets: label, mask: mask)
        let plan = b.build(seed: 4)
        var random = Random(seed: 8)
        for i in 0..<(16 * 16 * 16 * 8) { image.data[i] = random.normal() }
        for n in 0..<16 { (label.data[n], mask.data[n]) = (Float(n % 3), 1) }
        let adam = Adam(plan: plan)
        var losses: [Float] = []
        for _ in 0..<5 {
            plan.forward(batch: 16, mode: .training)
            plan.backward(batch: 16)
            adam.step(learningRate: 0.01)
            losses.append(plan.totalLoss)
        }
        return losses + (0..<plan.parameterCount).map { plan.values[$0] }
    }

    @Test func twoThreadsGiveTheSameNumbersAsOne() {
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one == two)
    }

    @Test func gradientsAreRightWithTwoThreads() {
        let report = checkGradients(batch: 8, pool: ThreadPool(threads: 2), inputs: [[12, 12, 4]]) { b, x in
            let h = b.batchNorm(b.conv2d(x[0], filters: 6, kernel: 3, padding: .same, name: "c"), name: "bn")
            b.project(b.globalAvgPool(b.avgPool(b.tanh(h), size: 2, stride: 2)))
        }
        #expect(report.worst < OpGradientTests.tolerance, "\(report)")
    }
}
