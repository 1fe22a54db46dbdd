import Engine
import FlowSpec
import Foundation
import Tasks
import Testing
@testable import Training

/// A tiny tabular model compiled by the real compiler, with weights set by hand, against the
/// same forward pass written out with plain loops: a numeric input and a category input
/// (one-hot or embedded) concatenated by `from: [x, carrier]`, one dense layer and tanh, a
/// binary and a regression head. Then the regression task's standardisation: the loss sees
/// standardised targets, decoded predictions and metrics are in the label's units.
///
/// Tolerance: the plan computes in float32 over at most 8 terms of size ≤ 3, so its logits are
/// within about 1e-6 of the double-precision values here; 1e-5 leaves room for tanh's float
/// rounding. A wrong index, column order or missing term changes a logit by 0.01 or more.
struct TabularForwardTests {
    static let tolerance = 1e-5

    static func flow(_ encoding: String) -> String {
        """
        name: forward
        data: {train: train.csv, test: test.csv}
        inputs:
          carrier: {type: category, \(encoding)}
          x: {type: numeric, columns: [a, b], normalize: standard}
        trunk:
          joined: {from: [x, carrier], layers: [dense: 3, tanh]}
        flow:
          late: {type: binary}
          cost: {type: regression}
        """
    }

    /// Training: a 1, 5, 1, 5 (mean 3, deviation 2); b 10, 30, 30, 10 (mean 20, deviation 10);
    /// cost 900, 1100, 900, 1100 (mean 1000, deviation 100); carriers dhl, fedex, ups.
    static let files = [
        "train.csv": """
            carrier,a,b,late,cost
            ups,1,10,1,900
            dhl,5,30,0,1100
            ups,1,30,1,900
            fedex,5,10,0,1100

            """,
        // The batch: usps never occurs in training and the empty cell did not either, so both
        // read as the unknown slot (same x, so the same outputs).
        "test.csv": """
            carrier,a,b,late,cost
            ups,3,20,1,1000
            dhl,7,10,0,950
            usps,1,40,1,1200
            fedex,4,25,0,800
            ,1,40,0,1050

            """,
    ]

    // The batch as the model should see it.
    static let x: [[Double]] = [[0, 0], [2, -1], [-1, 2], [0.5, 0.5], [-1, 2]]
    static let ids = [3, 1, 0, 2, 0]  // <unknown>, dhl, fedex, ups
    static let costs: [Double] = [1000, 950, 1200, 800, 1050]

    // Weights, in the engine's layout (dense: [units, features]).
    static func trunkWeight(_ u: Int, _ f: Int) -> Double { Double((u * 5 + f * 3) % 7) * 0.1 - 0.3 }
    static let trunkBias: [Double] = [0.1, -0.2, 0.05]
    static func embedding(_ v: Int, _ j: Int) -> Double { [[0.3, -0.7], [1.1, 0.4], [-0.6, 0.9], [0.2, -1.2]][v][j] }
    static let lateWeight: [Double] = [0.5, -1.0, 1.5], lateBias = 0.2
    static let costWeight: [Double] = [1.0, 0.5, -0.5], costBias = -0.1

    /// The forward pass by hand: (late logit, cost logit) per row.
    static func expectedLogits(oneHot: Bool) -> [(late: Double, cost: Double)] {
        (0..<5).map { r in
            var features = x[r]
            if oneHot {
                features += (0..<4).map { $0 == ids[r] ? 1 : 0 }
            } else {
                features += (0..<2).map { embedding(ids[r], $0) }
            }
            var hidden = [Double](repeating: 0, count: 3)
            for u in 0..<3 {
                var sum = trunkBias[u]
                for f in features.indices { sum += trunkWeight(u, f) * features[f] }
                hidden[u] = Foundation.tanh(sum)
            }
            var late = lateBias, cost = costBias
            for u in 0..<3 {
                late += lateWeight[u] * hidden[u]
                cost += costWeight[u] * hidden[u]
            }
            return (late, cost)
        }
    }

    /// The model with the hand-set weights, its data, and the test split in its tensors.
    static func model(_ encoding: String) throws -> (model: CompiledModel, data: TrainingData, directory: URL) {
        let (flow, directory) = try TabularEncodingTests.flow(Self.flow(encoding), files: files)
        let data = try TrainingData.load(flow)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 5, seed: 1)
        let features = 2 + (encoding.contains("one_hot") ? 4 : 2)
        var values: [String: [Double]] = [
            "trunk.joined.0.dense.weight": (0..<3).flatMap { u in (0..<features).map { trunkWeight(u, $0) } },
            "trunk.joined.0.dense.bias": trunkBias,
            "heads.late.out.weight": lateWeight, "heads.late.out.bias": [lateBias],
            "heads.cost.out.weight": costWeight, "heads.cost.out.bias": [costBias],
        ]
        if !encoding.contains("one_hot") {
            values["inputs.carrier.embedding.weight"] = (0..<4).flatMap { v in (0..<2).map { embedding(v, $0) } }
        }
        // Every parameter is one of these, and has the size written here.
        #expect(Set(model.plan.parameters.map(\.name)) == Set(values.keys))
        for parameter in model.plan.parameters {
            let given = try #require(values[parameter.name])
            try #require(given.count == parameter.count, "\(parameter.name): \(parameter.shape)")
            for i in given.indices { parameter.value[i] = Float(given[i]) }
        }
        Batcher(model: model).fill(try #require(data.test), rows: Array(0..<5)[...])
        return (model, data, directory)
    }

    @Test(arguments: ["encoding: one_hot", "embedding: 2"])
    func forwardMatchesTheHandComputation(_ encoding: String) throws {
        let (model, data, directory) = try Self.model(encoding)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(data.statistics.vocabularies["carrier"] == ["<unknown>", "dhl", "fedex", "ups"])
        #expect(data.statistics.regression["cost"] == Standardization(mean: 1000, deviation: 100))
        model.plan.forward(batch: 5, mode: .evaluation)

        let expected = Self.expectedLogits(oneHot: encoding.contains("one_hot"))
        let late = try #require(model.tasks.first { $0.task.path.description == "late" })
        let cost = try #require(model.tasks.first { $0.task.path.description == "cost" })
        let lateDecoder = late.decoder(data.statistics), costDecoder = cost.decoder(data.statistics)
        let lateLogits = Array(late.logits.values(batch: 5)), costLogits = Array(cost.logits.values(batch: 5))
        for r in 0..<5 {
            let lateLogit = Double(late.logits.data[r]), costLogit = Double(cost.logits.data[r])
            #expect(abs(lateLogit - expected[r].late) < Self.tolerance,
                    "row \(r) late: expected \(expected[r].late), got \(lateLogit)")
            #expect(abs(costLogit - expected[r].cost) < Self.tolerance,
                    "row \(r) cost: expected \(expected[r].cost), got \(costLogit)")

            // Decoded: the probability and the decision at 0.5; the cost back in the label's
            // units, logit × 100 + 1000.
            let probability = 1 / (1 + exp(-expected[r].late))
            let decodedLate = lateDecoder.decode(lateLogits[r...r])
            #expect(abs(Double(decodedLate.activated[0]) - probability) < Self.tolerance)
            #expect(decodedLate.value == .flag(probability >= 0.5))
            let decodedCost = costDecoder.decode(costLogits[r...r])
            guard case .number(let value) = decodedCost.value else {
                Issue.record("row \(r): cost decodes to \(decodedCost.value)")
                continue
            }
            #expect(abs(value - (expected[r].cost * 100 + 1000)) < 100 * Self.tolerance,
                    "row \(r) cost: expected \(expected[r].cost * 100 + 1000), got \(value)")
        }
        // Both unknowns (usps, and the empty cell training never had) give the same outputs.
        #expect(late.logits.data[2] == late.logits.data[4] && cost.logits.data[2] == cost.logits.data[4])
    }

    /// The regression loss reads standardised targets; metrics are in the label's units.
    @Test func regressionLossIsOnStandardisedTargetsAndMetricsInLabelUnits() throws {
        let (model, data, directory) = try Self.model("embedding: 2")
        defer { try? FileManager.default.removeItem(at: directory) }
        model.plan.forward(batch: 5, mode: .evaluation)
        let cost = try #require(model.tasks.first { $0.task.path.description == "cost" })
        let expected = Self.expectedLogits(oneHot: false).map(\.cost)

        // (cost − 1000) / 100, exactly.
        let standardised = Self.costs.map { ($0 - 1000) / 100 }
        #expect(Array(cost.targets.values(batch: 5)) == standardised.map { Float($0) })
        #expect(try #require(data.test).targets[1] == [0, -0.5, 2, -2, 0.5])
        // The default loss, mse, as the mean over the rows of (z − t)².
        let loss = zip(expected, standardised).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 5
        #expect(abs(Double(cost.loss.loss) - loss) < 1e-5 * max(1, loss), "loss \(cost.loss.loss), expected \(loss)")

        // Metrics over the same rows, in the label's units.
        var predictions = TaskPredictions(cost.decoder(data.statistics))
        predictions.add(logits: UnsafeBufferPointer(cost.logits.values(batch: 5)),
                        targets: UnsafeBufferPointer(cost.targets.values(batch: 5)),
                        rows: Array(0..<5)[...], counts: [Bool](repeating: true, count: 5))
        let metrics = Dictionary(predictions.metrics().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        let errors = zip(expected, Self.costs).map { $0 * 100 + 1000 - $1 }
        let mae = errors.map(abs).reduce(0, +) / 5
        let rmse = (errors.map { $0 * $0 }.reduce(0, +) / 5).squareRoot()
        let mae1 = try #require(metrics["mean_absolute_error"]), rmse1 = try #require(metrics["rmse"])
        #expect(abs(mae1 - mae) < 1e-3, "mean_absolute_error \(mae1), expected \(mae)")
        #expect(abs(rmse1 - rmse) < 1e-3, "rmse \(rmse1), expected \(rmse)")
    }
}
