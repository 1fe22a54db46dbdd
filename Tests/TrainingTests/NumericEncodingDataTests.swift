import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// The data side of `encoding: piecewise_linear`: bin edges learnt from the training split
/// (quantiles of the present values, as the network sees them), saved in `state.json`, and the
/// compiled model's encoding of real rows against a hand computation.
struct NumericEncodingDataTests {
    /// Quantiles interpolate between order statistics; ties collapse edges; missing values
    /// (NaN) are left out; a constant or empty column has no bins.
    @Test func quantileEdges() {
        #expect(QuantileBins.edges(of: [5, 1, 4, 2, 3], bins: 4) == [1, 2, 3, 4, 5])
        // n = 6, p = t·5/3: 0 → 1; 1.67 → 1 (a tie, dropped); 3.33 → 1 + ⅓ · (2 − 1); 5 → 3.
        #expect(QuantileBins.edges(of: [1, 1, 1, 1, 2, 3], bins: 3) == [1, Float(1 + 1.0 / 3), 3])
        #expect(QuantileBins.edges(of: [.nan, 0, .nan, 10], bins: 2) == [0, 5, 10])
        #expect(QuantileBins.edges(of: [4, 4, 4], bins: 8) == [])
        #expect(QuantileBins.edges(of: [.nan, .nan], bins: 8) == [])
        // Two distinct values: one bin, whatever was asked.
        #expect(QuantileBins.edges(of: [0, 0, 0, 0, 1], bins: 4) == [0, 1])
    }

    /// The radix sort of the quantiles' values gives what `filter { !$0.isNaN }.sorted()` does,
    /// bit for bit: negatives, zeros of both signs in their order, ties, infinities, NaNs left out.
    @Test func quantileSortEqualsTheStandardSort() {
        var random = SystemRandomNumberGenerator()
        let special: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 3, -3, .leastNonzeroMagnitude,
                                -.leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, 0]
        let values = (0..<5000).map { _ in Float(Int.random(in: -200...200, using: &random)) / 8 }
            + special + (0..<200).map { _ in Float.random(in: -1e30...1e30, using: &random) }
        let expected = values.filter { !$0.isNaN }.sorted()
        let observed = QuantileBins.sortedPresent(values)
        #expect(observed.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    /// Training rows: a = 1, –, 3, 5, –, 9 (minmax: low 1, range 8; mean 4.5); b = 2, 4, …, 12
    /// (minmax: low 2, range 10); c constant.
    ///   a present, normalised: 0, 0.25, 0.5, 1 → n 4, p = 0, 1.5, 3 → edges 0, 0.375, 1
    ///   b normalised: 0, 0.2, …, 1 → n 6, p = 0, 2.5, 5 → edges 0, 0.5, 1
    static let flow = """
        name: ple
        data: {train: train.csv, test: test.csv}
        inputs:
          x: {type: numeric, columns: [a, b, c], normalize: minmax, encoding: piecewise_linear, bins: 2}
        trunk:
          t: {from: x, layers: [dense: 1]}
        flow:
          y: {type: binary}
        """

    static let files = [
        "train.csv": "a,b,c,y\n1,2,7,1\n,4,7,0\n3,6,7,1\n5,8,7,0\n,10,7,1\n9,12,7,0\n",
        "test.csv": "a,b,c,y\n3,12,7,1\n,7,9,0\n",
    ]

    @Test func edgesFromTheTrainingSplitReachTheModel() throws {
        let (flow, directory) = try TabularEncodingTests.flow(Self.flow, files: Self.files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainingData.load(flow)
        let stats = try #require(data.statistics.numeric["x"])
        #expect(stats.binEdges == [[0, 0.375, 1], [0, 0.5, 1], []])
        #expect(stats.indicators == ["a"])

        // state.json keeps the edges; a state written before encodings existed still reads.
        let json = try JSONEncoder().encode(data.statistics)
        #expect(try JSONDecoder().decode(DataStatistics.self, from: json) == data.statistics)
        var old = data.statistics
        old.numeric["x"]?.binEdges = nil
        let oldJSON = try JSONEncoder().encode(old)
        #expect(!String(decoding: oldJSON, as: UTF8.self).contains("binEdges"))
        #expect(try JSONDecoder().decode(DataStatistics.self, from: oldJSON).numeric["x"]?.binEdges == nil)

        // The model: 3 columns × 2 slots + the indicator → dense 1 → the output layer.
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 2, seed: 1)
        let parameters = Dictionary(model.plan.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let trunk = try #require(parameters["trunk.t.0.dense.weight"])
        #expect(trunk.shape == [1, 7])
        let weights: [Float] = [1, 2, 4, 8, 16, 32, 64]
        for (i, w) in weights.enumerated() { trunk.value[i] = w }
        parameters["trunk.t.0.dense.bias"]?.value[0] = 0
        parameters["heads.y.out.weight"]?.value[0] = 1
        parameters["heads.y.out.bias"]?.value[0] = 0
        guard case .floats(let rows, 4)? = data.test?.inputs["x"] else {
            Issue.record("x is not 4 floats a row")
            return
        }
        model.inputs["x"]!.data.update(from: rows, count: rows.count)
        model.plan.forward(batch: 2, mode: .evaluation)
        // Row 1: a 0.25 → [0.25/0.375, 0]; b 1 → [1, 1] (the last slot is not clamped);
        // c (no bins) → [0, 0]; indicator 0.
        // Row 2: a missing → mean 4.5 → 0.4375 → [1, 0.1]; b 7 → 0.5 → [1, 0]; c 9 → [0, 0];
        // indicator 1.
        let slots: [[Double]] = [[0.25 / 0.375, 0, 1, 1, 0, 0, 0], [1, 0.0625 / 0.625, 1, 0, 0, 0, 1]]
        let expected = slots.map { row in zip(row, weights).reduce(0) { $0 + $1.0 * Double($1.1) } }
        let logits = model.tasks[0].logits.values(batch: 2)
        // Float32 sums of 7 terms: relative error well under 1e-5.
        for (o, e) in zip(logits, expected) { #expect(abs(Double(o) - e) < 1e-5 * abs(e), "\(Array(logits)) vs \(expected)") }
    }
}
