import Testing
@testable import Engine

/// The engine's own parallel loops give the same numbers at one and at two threads (no loop
/// sums across chunks), and their gradients stay right. BLAS stays at one thread here: OpenBLAS
/// does not promise the same rounding at different thread counts.
struct ThreadTests {
    /// A conv net big enough that every parallel loop really splits: direct convolutions (at most
    /// 16 input channels), Winograd's, and im2col's at stride 2.
    func run(threads: Int, channels: Int = 8) -> [Float] {
        let b = PlanBuilder(maxBatch: 16, pool: ThreadPool(threads: threads))
        let image = b.input([16, 16, channels]), label = b.input([1]), mask = b.input([1])
        var h = b.relu(b.batchNorm(b.conv2d(image, filters: 16, kernel: 3, padding: .same, name: "c1"), name: "bn"))
        h = b.layerNorm(h, name: "ln")
        h = b.relu(b.conv2d(h, filters: 24, kernel: 3, stride: 1, padding: .same, bias: true, initialization: .glorot,
                            method: .winograd, name: "w"))
        h = b.batchNormReLUMaxPool(b.conv2d(h, filters: 16, kernel: 3, padding: .same, name: "c1b"), name: "bnp")
        h = b.avgPool(b.maxPool(h, size: 2, stride: 2), size: 2, stride: 1)
        h = b.globalAvgPool(b.gelu(b.conv2d(h, filters: 8, kernel: 3, stride: 2, padding: .zeros(1), name: "c2")))
        _ = b.softmaxCrossEntropy(logits: b.dense(h, units: 3, name: "out"), targets: label, mask: mask)
        let plan = b.build(seed: 4)
        var random = Random(seed: 8)
        for i in 0..<(16 * 16 * 16 * channels) { image.data[i] = random.normal() }
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

    /// Chunks are claimed by whichever thread gets to them first (the caller runs those no
    /// worker has started): with more threads than this machine's cores, many are taken over,
    /// and still every item runs exactly once, as the worker its chunk belongs to.
    @Test func everyChunkRunsOnceAsItsOwnWorker() {
        final class Marks: ParallelLoop {
            let runs: UnsafeMutablePointer<Int>, workers: UnsafeMutablePointer<Int>
            init(count: Int) {
                runs = .allocate(capacity: count)
                runs.initialize(repeating: 0, count: count)
                workers = .allocate(capacity: count)
                workers.initialize(repeating: -1, count: count)
            }
            deinit {
                runs.deallocate()
                workers.deallocate()
            }
            func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
                for item in items {
                    runs[item] += 1
                    workers[item] = worker
                }
            }
        }
        let pool = ThreadPool(threads: 6), count = 36_000  // chunks of 6,000
        for _ in 0..<300 {
            let marks = Marks(count: count)
            pool.parallelFor(count, marks)
            #expect((0..<count).allSatisfy { marks.runs[$0] == 1 })
            #expect((0..<count).allSatisfy { marks.workers[$0] == $0 / 6_000 })
        }
    }

    @Test(arguments: [8, 3]) func twoThreadsGiveTheSameNumbersAsOne(channels: Int) {
        let one = run(threads: 1, channels: channels), two = run(threads: 2, channels: channels)
        #expect(one == two)
    }

    /// A numeric input's piecewise-linear map, on enough rows that its row and column loops
    /// split: outputs and weight gradients equal at one and at two threads.
    @Test func piecewiseLinearMapGivesTheSameNumbersAtTwoThreads() {
        func run(threads: Int) -> [Float] {
            let rows = 512
            let b = PlanBuilder(maxBatch: rows, pool: ThreadPool(threads: threads))
            let x = b.input([5])
            let bins = (0..<4).map { j in PiecewiseLinearBins(edges: (0...(6 + j)).map { Float($0) - 3 }) }
            let out = b.piecewiseLinearEncoding(x, bins: bins, slots: 10, dimension: 8, initialization: .torch, name: "p")
            b.project(out)
            let plan = b.build(seed: 2)
            var random = Random(seed: 3)
            for i in 0..<(rows * 5) { x.data[i] = 3 * random.normal() }
            plan.forward(batch: rows, mode: .training)
            plan.backward(batch: rows)
            return Array(out.values(batch: rows)) + plan.parameters.flatMap { p in (0..<p.count).map { p.grad[$0] } }
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one == two)
    }

    @Test func gradientsAreRightWithTwoThreads() {
        let report = checkGradients(batch: 8, pool: ThreadPool(threads: 2), inputs: [[12, 12, 4]]) { b, x in
            let h = b.layerNorm(b.batchNorm(b.conv2d(x[0], filters: 6, kernel: 3, padding: .same, name: "c"), name: "bn"),
                                name: "ln")
            b.project(b.globalAvgPool(b.avgPool(b.tanh(h), size: 2, stride: 2)))
        }
        #expect(report.worst < OpGradientTests.tolerance, "\(report)")
    }
}
