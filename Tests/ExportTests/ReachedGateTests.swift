import FileFormats
import FlowSpec
import Tasks
import Testing
@testable import Evaluation
@testable import Export
@testable import Training

/// The exported graph's decisions and `reached` outputs, run by the reference evaluator on
/// hand-made logits, against what `predict` computes from the same logits (`SplitPredictions`:
/// its blanks are where `reached` is false): nested flows, `not`, `and`, `or`, `==` and `in`
/// on a classification parent, negated conjunctions and disjunctions, tuned thresholds and a temperature.
struct ReachedGateTests {
    static let flowText = """
        name: t
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [f1]}
        flow:
          a: {type: binary}
          b: {type: binary, when: a}
          c: {type: classification, classes: [red, green, blue], when: not a}
          d: {type: binary, when: c == red}
          w: {type: regression, when: "c in [green, blue]"}
          n:
            when: b or d
            flow:
              e: {type: binary}
              f: {type: bounded_regression, scale: 10, when: e}
              m:
                when: not e
                flow:
                  h: {type: multilabel, labels: [p, q]}
              k: {type: binary, when: a}
          g: {type: binary, when: a and not b}
          v: {type: binary, when: "not (a and b) and not (n.e or c == blue)"}
        """

    /// Logits for `rows` rows: a fixed pseudo-random draw, wide enough that every decision goes
    /// both ways.
    static func logits(_ tasks: [ResolvedTask], _ outputs: [TaskOutput], rows: Int) -> [[Float]] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 250  // −4 … 4
        }
        return outputs.map { output in (0..<(rows * output.units)).map { _ in next() } }
    }

    @Test func reachedAndDecodedEqualWhatPredictComputes() throws {
        let flow = try FlowLoader.load(bytes: Array(Self.flowText.utf8), file: "t.yaml")
        let tasks = flow.tasks, rows = 400
        let outputs = tasks.map { TaskOutput(type: $0.spec.type, classCount: $0.spec.classes?.value.count ?? 1) }
        let decoders = zip(tasks, outputs).map { task, output -> TaskDecoder in
            let path = task.path.description
            return TaskDecoder(output: output, names: task.spec.classes?.value ?? [],
                               thresholds: path == "a" ? [0.3] : path == "n.m.h" ? [0.6, 0.2] : nil,
                               scale: task.spec.scale, mean: path == "w" ? 3 : 0, deviation: path == "w" ? 2.5 : 1,
                               temperature: path == "c" ? 2 : 1)
        }
        let logits = Self.logits(tasks, outputs, rows: rows)

        // What predict computes.
        let split = EncodedSplit(name: "test", rows: rows, file: "t.csv", sourceRows: Array(0..<rows), inputs: [:],
                                 targets: outputs.map { [Float](repeating: 0, count: rows * $0.targetShape[0]) },
                                 masks: outputs.map { [Float](repeating: 1, count: rows * $0.maskShape[0]) },
                                 counts: tasks.map { _ in [Bool](repeating: true, count: rows) },
                                 present: tasks.map { _ in [Bool](repeating: true, count: rows) })
        let predictions = SplitPredictions(SplitOutputs(split: split, logits: logits, width: outputs.map(\.units),
                                                        losses: tasks.map { _ in [Float](repeating: .nan, count: rows) }),
                                           decoders: decoders, tasks: tasks, classes: [:])

        // The graph, on the same logits.
        let graph = ONNXGraphBuilder(name: "t", opset: 17)
        let inputs = zip(tasks, outputs).map { task, output in
            ExportedValue(name: graph.input("logits.\(task.path)", .float, shape: [output.units]), shape: [output.units])
        }
        ONNXTaskOutputs(graph: graph).add(tasks, logits: inputs, decoders: decoders)
        var feed: [String: ReferenceEvaluator.Value] = [:]
        for (t, input) in inputs.enumerated() {
            feed[input.name] = .init(shape: [rows, outputs[t].units], values: logits[t].map(Double.init), type: .float)
        }
        let result = try ReferenceEvaluator(graph: graph.graph).run(feed)

        for (t, task) in tasks.enumerated() {
            let path = task.path.description
            let reached = try #require(result["\(path).reached"])
            #expect(reached.type == .bool && reached.shape == [rows])
            #expect(reached.values.map { $0 != 0 } == predictions.reached[t], "\(path).reached")
            // The gate is not vacuous: every task with a precondition is reached on some rows
            // and not on others.
            if task.precondition != nil {
                #expect(predictions.reached[t].contains(true) && predictions.reached[t].contains(false), "\(path)")
            }
            let decoded = try #require(result["\(path).decoded"])
            let activated = try #require(result["\(path).activated"])
            for r in 0..<rows {
                let expected = predictions.decoded[t][r].value
                switch expected {
                case .flag(let yes): #expect((decoded.values[r] != 0) == yes, "\(path) row \(r)")
                case .classIndex(let index): #expect(Int(decoded.values[r]) == index, "\(path) row \(r)")
                case .classIndices(let indices):
                    #expect(indices.indices.allSatisfy { Int(decoded.values[r * indices.count + $0]) == indices[$0] }, "\(path) row \(r)")
                case .labels(let on):
                    let got = (0..<on.count).map { decoded.values[r * on.count + $0] != 0 }
                    #expect(got == on, "\(path) row \(r)")
                case .number(let number):
                    // The decoding of the graph's own activation, exactly as `TaskDecoder` does it
                    // (the activations themselves may differ in the last bit, checked below).
                    let exact = decoders[t].labelNumber(Float(activated.values[r]))
                    #expect(Float(decoded.values[r]) == Float(exact), "\(path) row \(r)")
                    #expect(abs(Double(Float(decoded.values[r])) - number) <= 1e-5 * max(1, abs(number)), "\(path) row \(r)")
                }
            }
            for r in 0..<rows {
                let expected = predictions.decoded[t][r].activated
                for (i, value) in expected.enumerated() {
                    #expect(abs(activated.values[r * expected.count + i] - Double(value)) <= 1e-6, "\(path) row \(r)")
                }
            }
        }
        // A row that decides "no" at a parent leaves every descendant unreached.
        let index = Dictionary(uniqueKeysWithValues: tasks.enumerated().map { ($1.path.description, $0) })
        let a = try #require(index["a"]), b = try #require(index["b"]), k = try #require(index["n.k"])
        for r in 0..<rows where (result["a.decoded"]?.values[r] ?? 1) == 0 {
            #expect(result["b.reached"]?.values[r] == 0 && result["g.reached"]?.values[r] == 0)
            #expect(!predictions.reached[b][r] && !predictions.reached[k][r])
        }
        #expect(predictions.reached[a].allSatisfy { $0 })
    }
}
