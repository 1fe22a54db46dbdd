import FileFormats
import FlowSpec
import Tasks
import Testing
@testable import Evaluation
@testable import Training

/// Explanations, predictions.csv and the predicted-precondition view on hand-made logits: what
/// is pruned is exactly what fails on the decoded predictions, inside nested flows too.
struct ExplanationTests {
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
          n:
            when: b
            flow:
              e: {type: binary}
              f: {type: bounded_regression, scale: 10, when: e}
              m:
                when: not e
                flow:
                  h: {type: multilabel, labels: [p, q]}
              k: {type: binary, when: a}
          g: {type: binary, when: a and d}
        """

    /// Logits per task and row. Rows: 0 a, b, e true; 1 a false, c red; 2 a, b true, e false;
    /// 3 a true, b false.
    static let logits: [String: [[Float]]] = [
        "a": [[4], [-4], [3], [2]],
        "b": [[5], [5], [1], [-1]],
        "c": [[0, 1, 0], [3, 0, 1], [0, 0, 2], [1, 2, 3]],
        "d": [[-1], [2], [1], [1]],
        "n.e": [[2], [2], [-3], [1]],
        "n.f": [[0], [1], [0], [0]],
        "n.m.h": [[1, -1], [0, 0], [-2, 3], [0, 0]],
        "n.k": [[1], [1], [1], [1]],
        "g": [[1], [1], [1], [1]],
    ]

    /// Predictions for `logits`, with every label present unless `labels` says otherwise.
    static func predictions(labels: [String: [Float?]] = [:]) throws -> SplitPredictions {
        let flow = try FlowLoader.load(bytes: Array(flowText.utf8), file: "t.yaml")
        let rows = 4
        let outputs = flow.tasks.map { TaskOutput(type: $0.spec.type, classCount: $0.spec.classes?.value.count ?? 1) }
        let width = outputs.map(\.units)
        let values = flow.tasks.map { task in labels[task.path.description] ?? [Float?](repeating: 0, count: rows) }
        let mask = PreconditionMask(tasks: flow.tasks, classes: [:])
        let counts = mask.counts(rows: rows) { t, r in values[t][r] }
        let split = EncodedSplit(
            name: "test", rows: rows, file: "t.csv", sourceRows: [10, 11, 12, 13], inputs: [:],
            targets: zip(flow.tasks, values).map { task, v in
                task.spec.type == .multilabel ? [Float](repeating: 0, count: rows * 2) : v.map { $0 ?? 0 }
            },
            masks: width.map { [Float](repeating: 1, count: rows * $0) }, counts: counts,
            present: values.map { $0.map { $0 != nil } })
        let split0 = SplitOutputs(split: split, logits: flow.tasks.map { logits[$0.path.description]!.flatMap { $0 } },
                                  width: width, losses: flow.tasks.map { _ in [Float](repeating: .nan, count: rows) })
        let decoders = zip(flow.tasks, outputs).map { task, output in
            TaskDecoder(output: output, names: task.spec.classes?.value ?? [], scale: task.spec.scale)
        }
        return SplitPredictions(split0, decoders: decoders, tasks: flow.tasks, classes: [:])
    }

    /// Every node of a tree, as paths, depth first.
    static func paths(_ nodes: [Explanation.Node]) -> [String] {
        nodes.flatMap { [$0.path] + paths($0.children) }
    }

    @Test func prunesExactlyWhatFailsOnTheDecodedPredictions() throws {
        let predictions = try Self.predictions()
        let flow = try FlowLoader.load(bytes: Array(Self.flowText.utf8), file: "t.yaml")
        let explanation = Explanation(predictions, tree: flow.tree)
        // Row 0: a → b → n → e → f; c (not a) is out, so d and g (a and d: d unknown) are too;
        // m (not e) is out with h.
        // k (when: a) names a task outside n: it stays inside n, under n itself.
        #expect(Self.paths(explanation.sample(0).children) == ["a", "b", "n", "n.e", "n.f", "n.k"])
        // Row 1: a false: b, and the nested flow n hanging under b, are out with all inside;
        // c decodes red (class 0), so d is reached; g is false because a is.
        #expect(Self.paths(explanation.sample(1).children) == ["a", "c", "d"])
        // Row 2: e false inside n: f is out, the nested flow m and its h are in.
        #expect(Self.paths(explanation.sample(2).children) == ["a", "b", "n", "n.e", "n.m", "n.m.h", "n.k"])
        // Row 3: b false: n and everything in it are out; c blue is out anyway (a true).
        #expect(Self.paths(explanation.sample(3).children) == ["a", "b"])
        // Structure: a task or flow hangs under the one task its `when` names (m under e); a flow
        // holds its children.
        let row0 = explanation.sample(0)
        #expect(row0.row == 10)
        #expect(row0.children.map(\.name) == ["a"])
        #expect(row0.children[0].children[0].children.map(\.name) == ["n"])
        #expect(row0.children[0].children[0].children[0].children.map(\.name) == ["e", "k"])
    }

    @Test func textFollowsTheContractsLayout() throws {
        let predictions = try Self.predictions()
        let flow = try FlowLoader.load(bytes: Array(Self.flowText.utf8), file: "t.yaml")
        let text = Explanation.text([Explanation(predictions, tree: flow.tree).sample(2)])
        #expect(text == """
            └── row 12
                └── a | decoded: 1, activated: 0.9526, logits: 3
                    └── b | decoded: 1, activated: 0.7311, logits: 1
                        └── n
                            ├── e | decoded: 0, activated: 0.04743, logits: -3
                            │   └── m
                            │       └── h | decoded: [q], activated: [0.1192, 0.9526], logits: [-2, 3]
                            └── k | decoded: 1, activated: 0.7311, logits: 1

            """)
        let row1 = Explanation.text([Explanation(predictions, tree: flow.tree).sample(1)])
        #expect(row1.contains("    └── c | decoded: red, activated: 0.8438, logits: 3\n"))
        let json = Explanation.json([Explanation(predictions, tree: flow.tree).sample(2)])
        #expect(json.contains("\"decoded\" : [\n") && json.contains("\"q\""))
        // Binary decisions are 1 and 0, as in predictions.csv, in both forms.
        #expect(json.contains("\"decoded\" : 1,\n") && json.contains("\"decoded\" : 0,\n") && !json.contains("true"))
    }

    /// A diverged model's infinite logits still give every sample in JSON (as strings).
    @Test func jsonKeepsNonFiniteValues() throws {
        let sample = Explanation.Sample(row: 3, children: [
            Explanation.Node(name: "a", path: "a", kind: "task", type: "binary", decoded: .flag(true),
                             activated: [1], logits: [.infinity], children: []),
        ])
        let json = Explanation.json([sample])
        #expect(json.contains("\"inf\"") && json.contains("\"row\" : 3"))
    }

    @Test func predictionsBlankWhereNotReached() throws {
        let predictions = try Self.predictions()
        let flow = try FlowLoader.load(bytes: Array(Self.flowText.utf8), file: "t.yaml")
        let table = try CSVTable.parse(Array(PredictionTable.csv(predictions, tree: flow.tree).text.utf8), file: "p.csv")
        func cell(_ r: Int, _ column: String) -> String { table.string(row: r, column: table.column(column)!) }
        #expect(table.header.prefix(4) == ["row", "a.decoded", "a.activated", "a.logits"])
        #expect((0..<4).map { cell($0, "row") } == ["10", "11", "12", "13"])
        #expect((0..<4).map { cell($0, "n.f.decoded") } == ["5.0", "", "", ""])
        #expect((0..<4).map { cell($0, "n.f.logits") } == ["0.0", "1.0", "0.0", "0.0"])
        #expect((0..<4).map { cell($0, "c.decoded") } == ["", "red", "", ""])
        #expect(cell(1, "c.activated").split(separator: "|").count == 3)
        #expect((0..<4).map { cell($0, "n.m.h.decoded") } == ["", "", "q", ""])
        #expect((0..<4).map { cell($0, "d.decoded") } == ["", "1", "", ""])
    }

    @Test func evaluationCountsRowsUnderBothViews() throws {
        // Labels: a true on rows 0–2 and missing on 3; b true on 0 and 2.
        let labels: [String: [Float?]] = ["a": [1, 1, 1, nil], "b": [1, 0, 1, 0]]
        let predictions = try Self.predictions(labels: labels)
        let rows = RunEvaluation.rows(predictions, split: "test")
        func count(_ path: String, _ view: String) -> Int? {
            rows.first { $0.taskPath == path && $0.preconditions == view && $0.metric.name == "accuracy" }?.metric.count
        }
        // Ground truth: b counts where a's label is true (0, 1, 2). Predicted: where a decodes
        // true (0, 2, 3) and b's label is present: 3 rows, row 1 swapped for row 3.
        #expect(count("b", "ground_truth") == 3 && count("b", "predicted") == 3)
        // b's accuracy: decoded b is true on rows 0–2 (logits 5, 5, 1) and false on 3.
        let accuracy = { (view: String) in
            rows.first { $0.taskPath == "b" && $0.preconditions == view && $0.metric.name == "accuracy" }?.metric.value
        }
        #expect(accuracy("ground_truth") == 2.0 / 3)  // rows 0, 1, 2: labels 1, 0, 1
        #expect(accuracy("predicted") == 1)           // rows 0, 2, 3: labels 1, 1, 0, decoded 1, 1, 0
        // e (inside n, when b): ground truth needs b's label true on a counted row: 0, 2; the
        // predicted view needs b decoded true where reached: rows 0, 2 (row 1's b is not reached).
        #expect(count("n.e", "ground_truth") == 2 && count("n.e", "predicted") == 2)
        // a counts on its three present labels in both views.
        #expect(count("a", "ground_truth") == 3 && count("a", "predicted") == 3)
    }
}
