import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// `train.diagnostics`: layer statistics worked out by hand on a two-sample batch, the layers the
/// compiler records, and the ranking and CSV of the worst samples.
struct DiagnosticsTests {
    /// x (3) → dense 2 + ReLU ("hidden") → dense 1 ("out") → binary cross-entropy, batch of 2,
    /// with weights and data chosen so that every number can be checked by hand.
    static func handMadeModel(frozenHidden: Bool = false) -> (model: CompiledModel, hidden: Tensor) {
        let b = PlanBuilder(maxBatch: 2)
        let x = b.input([3])
        if frozenHidden { b.beginGroup(ParameterGroup(name: "frozen", frozen: true)) }
        let hidden = b.dense(x, units: 2, relu: true, name: "hidden")
        b.beginGroup(ParameterGroup(name: "default"))
        let logits = b.dense(hidden, units: 1, name: "out")
        let y = b.input([1]), mask = b.input([1])
        _ = b.binaryCrossEntropy(logits: logits, targets: y, mask: mask)
        let plan = b.build(seed: 1)
        let parameter = Dictionary(uniqueKeysWithValues: plan.parameters.map { ($0.name, $0) })
        let values: [String: [Float]] = ["hidden.weight": [1, 0, -1, 0.5, 0.5, 0.5], "hidden.bias": [0, 0],
                                         "out.weight": [1, -1], "out.bias": [0]]
        for (name, v) in values { parameter[name]!.value.update(from: v, count: v.count) }
        x.data.update(from: [1, 2, 3, 3, 1, -1], count: 6)
        y.data.update(from: [1, 0], count: 2)
        mask.data.update(from: [1, 1], count: 2)
        let layers = [WatchedLayer(name: "hidden", output: hidden, weight: parameter["hidden.weight"]!),
                      WatchedLayer(name: "out", output: logits, weight: parameter["out.weight"]!)]
        return (CompiledModel(plan: plan, inputs: ["x": x], inputKinds: [:], tasks: [], branches: [:], layers: layers,
                              tokenMasking: []), hidden)
    }

    func close(_ a: Double?, _ b: Double, relative: Double = 1e-5) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= relative * max(abs(b), 1e-12)
    }

    @Test func layerStatisticsOfOneSGDStepMatchTheHandComputation() throws {
        let (model, _) = Self.handMadeModel()
        let monitor = LayerMonitor(model: model)
        monitor.snapshot()
        let learningRate = 0.1
        TrainingStep(model: model, optimizer: SGD(plan: model.plan), clipNorm: nil).run(batch: 2, learningRate: Float(learningRate))
        let statistics = monitor.measure(batch: 2)
        try #require(statistics.map(\.layer) == ["hidden", "out"])
        let hidden = statistics[0]

        // Before ReLU: sample 0 (1, 2, 3) → (1 − 3, 0.5 · 6) = (−2, 3); sample 1 (3, 1, −1) → (4, 1.5).
        // After it: 0, 3, 4, 1.5: mean 2.125, one zero in four, squared deviations summing to 9.1875.
        #expect(hidden.activationMean == 2.125)
        #expect(hidden.zeroFraction == 0.25)
        #expect(abs(hidden.activationStandardDeviation - (9.1875 / 4).squareRoot()) < 1e-12)

        // Logits −3 and 4 − 1.5 = 2.5, labels 1 and 0: dL/dz = (σ(z) − y) / 2.
        func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
        let dz0 = (sigmoid(-3) - 1) / 2, dz1 = sigmoid(2.5) / 2
        // dh = dz · (1, −1), masked where the ReLU was off (sample 0's first unit); dW = Σ dhᵀ x.
        let gradient = [dz1 * 3, dz1 * 1, dz1 * -1,
                        -dz0 * 1 - dz1 * 3, -dz0 * 2 - dz1 * 1, -dz0 * 3 - dz1 * -1]
        let gradientNorm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(close(hidden.gradientNorm, gradientNorm))

        // Plain SGD moves W by lr · g, so ‖ΔW‖ / ‖W‖ = lr ‖g‖ / ‖W‖, ‖W‖ = √(1 + 1 + 3 · 0.25).
        let before = [1, 0, -1, 0.5, 0.5, 0.5]
        #expect(close(hidden.updateRatio, learningRate * gradientNorm / 2.75.squareRoot()))
        let after = zip(before, gradient).map { $0 - learningRate * $1 }
        #expect(close(hidden.weightNorm, after.reduce(0) { $0 + $1 * $1 }.squareRoot()))

        // The output layer: logits −3 and 2.5, no zeros; its weight (1, −1) has gradient Σ dz · h.
        let out = statistics[1]
        #expect(close(out.activationMean, -0.25))
        #expect(out.zeroFraction == 0)
        let outGradient = [dz0 * 0 + dz1 * 4, dz0 * 3 + dz1 * 1.5]
        #expect(close(out.gradientNorm, outGradient.reduce(0) { $0 + $1 * $1 }.squareRoot()))

        #expect(hidden.values.map(\.name) == ["activation_mean", "activation_std", "zero_fraction", "gradient_norm",
                                             "weight_norm", "update_ratio"])
        #expect(hidden.histograms.map(\.name) == ["activations", "weights", "gradients"])
        #expect(hidden.activations.counts.reduce(0, +) == 4 && hidden.activations.minimum == 0 && hidden.activations.maximum == 4)
    }

    @Test func aFrozenLayerHasItsWeightNormOnly() throws {
        let (model, _) = Self.handMadeModel(frozenHidden: true)
        let monitor = LayerMonitor(model: model)
        monitor.snapshot()
        TrainingStep(model: model, optimizer: SGD(plan: model.plan), clipNorm: nil).run(batch: 2, learningRate: 0.1)
        let hidden = monitor.measure(batch: 2)[0]
        #expect(hidden.gradientNorm == nil && hidden.updateRatio == nil && hidden.gradients == nil)
        #expect(abs(hidden.weightNorm - 2.75.squareRoot()) < 1e-12)  // unchanged by the step
        #expect(hidden.zeroFraction == 0.25)
        #expect(hidden.values.map(\.name) == ["activation_mean", "activation_std", "zero_fraction", "weight_norm"])
        #expect(hidden.histograms.map(\.name) == ["activations", "weights"])
    }

    @Test func histogramBucketsAreEqualWidthFromTheSmallestToTheLargest() {
        let values: [Float] = [0, 1, 2, 3, 4, .nan]
        let histogram = values.withUnsafeBufferPointer { Histogram($0, bucketCount: 4) }
        #expect(histogram == Histogram(minimum: 0, maximum: 4, count: 5, sum: 10, sumOfSquares: 30,
                                       limits: [1, 2, 3, 4], counts: [1, 1, 1, 2]))
        let constant: [Float] = [2, 2]
        #expect(constant.withUnsafeBufferPointer { Histogram($0) }.counts == [2])
        #expect([Float]().withUnsafeBufferPointer { Histogram($0) }.count == 0)
    }

    /// A dense layer's fused ReLU, a tanh after a dense layer, a batchnorm, the heads' output layers
    /// run as one product and a head's hidden layer whose ReLU follows that product.
    @Test func theCompilerWatchesEveryWeightedLayerAfterItsActivation() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1, f2, f3]}
            trunk:
              b: {from: x, layers: [dense: 8, relu, dense: 4, tanh, dropout: 0.1, batchnorm]}
            flow:
              a: {type: binary}
              c: {type: binary, head: [dense: 6, relu]}
            """.utf8), file: "f.yaml")
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 64, seed: 1)
        #expect(model.layers.map(\.name) == ["trunk.b.0.dense", "trunk.b.2.dense", "trunk.b.5.batchnorm",
                                             "heads.a.out", "heads.c.0.dense", "heads.c.out"])
        #expect(model.layers.map(\.weight.name) == model.layers.map { $0.name + ".weight" })
        SyntheticBatch.fill(model, batch: 64, facts: facts, seed: 2)
        model.plan.forward(batch: 64, mode: .training)
        func values(_ name: String) -> [Float] {
            Array(model.layers.first { $0.name == name }!.output.values(batch: 64))
        }
        for relu in ["trunk.b.0.dense", "heads.c.0.dense"] {
            #expect(values(relu).allSatisfy { $0 >= 0 } && values(relu).contains(0), "\(relu)")
        }
        #expect(values("trunk.b.2.dense").allSatisfy { abs($0) < 1 })
        #expect(values("heads.a.out").contains { $0 < 0 })
    }

    /// Losses per epoch for five rows (data rows 10…14) and two tasks, NaN where not kept.
    static let epochs: [[Float]] = [
        // row: task a, task b
        [0.1, 1, 0.9, .nan, .nan, 2, 0.5, 3, 0.9, 0],
        [0.2, 1, 0.3, 1, .nan, 1, 0.8, 1, 0.1, 0.5],
        [0.7, 0, 0.1, 0, .nan, 0, 0.6, 0, 0.1, 0],
    ]

    /// The one-pass selection ranks exactly as sorting every row would: loss descending, equal
    /// losses by row, non-finite losses (rows the task did not train) never.
    @Test func worstSamplesMatchAFullSort() {
        var random = Random(seed: 11)
        for count in [0, 1, 3, 10, 40] {
            let losses: [Float] = (0..<300).map { _ in
                let u = random.uniform()
                return u < 0.1 ? .nan : u < 0.2 ? .infinity : Float(Int(u * 20))  // many ties
            }
            let sorted = (0..<300).filter { losses[$0].isFinite }
                .sorted { (losses[$0], $1) > (losses[$1], $0) }.prefix(count)
            #expect(WorstSamplesLog.worst({ losses[$0] }, rows: 300, count: count) == Array(sorted), "count \(count)")
        }
    }

    @Test func worstSamplesAreRankedAndTrackedAcrossEpochs() throws {
        let losses = SampleLosses(rows: 5, tasks: 2, maxBatch: 1)
        var log = WorstSamplesLog(count: 2, taskPaths: ["a", "b"], sourceRows: [10, 11, 12, 13, 14])
        for (index, epoch) in Self.epochs.enumerated() {
            #expect(losses.restore(epoch))
            log.add(epoch: index + 1, losses: losses)
        }
        #expect(WorstSamplesLog.worst({ Self.epochs[0][$0 * 2] }, rows: 5, count: 2) == [1, 4])  // 0.9 twice: lower row first
        #expect(log.csv.text == """
            epoch,task_path,rank,row,loss
            1,a,1,11,0.9
            1,a,2,14,0.9
            1,b,1,13,3.0
            1,b,2,12,2.0
            2,a,1,13,0.8
            2,a,2,11,0.3
            2,a,,14,0.1
            2,b,1,10,1.0
            2,b,2,11,1.0
            2,b,,13,1.0
            2,b,,12,1.0
            3,a,1,10,0.7
            3,a,2,13,0.6
            3,a,,11,0.1
            3,a,,14,0.1
            3,b,1,10,0.0
            3,b,2,11,0.0
            3,b,,13,0.0
            3,b,,12,0.0

            """)

        // A log continued from the first two epochs' text ends as this one.
        var resumed = WorstSamplesLog(count: 2, taskPaths: ["a", "b"], sourceRows: [10, 11, 12, 13, 14])
        let twoEpochs = log.csv.text.components(separatedBy: "\n3,")[0] + "\n"
        let continued = resumed.restore(twoEpochs)
        #expect(continued)
        #expect(losses.restore(Self.epochs[2]))
        resumed.add(epoch: 3, losses: losses)
        #expect(resumed.csv.text == log.csv.text)
        var other = WorstSamplesLog(count: 2, taskPaths: ["a"], sourceRows: [10])
        let restored = other.restore(twoEpochs)
        #expect(!restored)  // rows of another split
    }
}
