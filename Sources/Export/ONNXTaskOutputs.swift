import FileFormats
import FlowSpec
import Tasks

/// Each task's four graph outputs, from its logits, as `TaskDecoder` and `SplitPredictions`
/// compute them:
/// - `<path>.logits`: the output layer, [N, units] ([N, L, classes] for token classification);
/// - `<path>.activated`: σ or softmax of logits / temperature (the run's `calibration.yaml`),
///   the logits themselves for a regression;
/// - `<path>.decoded`: a binary task's bool at its threshold (`thresholds.yaml`, else 0.5), a
///   class index (int64; names in the metadata; per position for token classification, −1 at
///   padding), a multilabel bool per label, a regression's
///   number in the label's units (computed in double, then float32, as `predict` does);
/// - `<path>.reached`: bool [N], the task's composed precondition on its parents' decoded
///   outputs in Kleene's three-valued logic (an atom about a task not reached is unknown, and
///   a precondition holds only when true): exactly where `predict` leaves a blank.
struct ONNXTaskOutputs {
    let graph: ONNXGraphBuilder

    /// Where a task is reached: on every row, on none, or where a bool [N] says.
    enum Gate {
        case always, never
        case when(String)
    }

    /// A condition's truth per row as two bools, "known true" and "known false" (nil: false on
    /// every row); unknown is neither.
    struct Truth {
        var yes: String?
        var no: String?
    }

    /// Adds the outputs of every task (`tasks` in evaluation order, each with its logits and
    /// decoder) and returns where each task is reached.
    @discardableResult
    /// `keeps`: per token classification, the padding (N, L) of its sequence, where its
    /// decoded classes are −1.
    func add(_ tasks: [ResolvedTask], logits: [ExportedValue], decoders: [TaskDecoder], keeps: [String?] = []) -> [Gate] {
        graph.reserve(Self.outputNames(tasks))
        var decisions: [String] = []
        var gates: [Gate] = []
        let index = Dictionary(tasks.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = logits.first.map { everyRow(like: $0.name) }
        for (t, task) in tasks.enumerated() {
            let path = task.path.description, decoder = decoders[t], z = logits[t]
            var (activated, decoded, type, shape) = decode(z, decoder, path: path)
            if t < keeps.count, let keep = keeps[t] {
                let isToken = graph.add("Cast", [keep], "\(path).is_token", [("to", .integer(ONNXElementType.bool.rawValue))])
                decoded = graph.add("Where", [isToken, decoded, graph.integers("\(path).no_token", [-1], shape: [])],
                                    "\(path).decoded_tokens")
            }
            decisions.append(decoded)
            let gate: Gate = task.precondition.map { condition in
                truth(condition, Context(index: index, decisions: decisions, gates: gates, decoders: decoders, rows: rows!))
                    .yes.map(Gate.when) ?? .never
            } ?? .always
            gates.append(gate)
            graph.output(z.name, as: "\(path).logits", .float, shape: z.shape)
            graph.output(activated, as: "\(path).activated", .float, shape: z.shape)
            graph.output(decoded, as: "\(path).decoded", type, shape: shape)
            let reached: String
            switch gate {
            case .always: reached = rows!
            case .never: reached = graph.add("Not", [rows!], "\(path).never")
            case .when(let value): reached = value
            }
            graph.output(reached, as: "\(path).reached", .bool, shape: [])
        }
        return gates
    }

    /// The names of the graph outputs of `tasks`, four per task.
    static func outputNames(_ tasks: [ResolvedTask]) -> [String] {
        tasks.flatMap { task in ["logits", "activated", "decoded", "reached"].map { "\(task.path).\($0)" } }
    }

    /// The activation, and the decision with its element type and per-sample shape.
    private func decode(_ z: ExportedValue, _ decoder: TaskDecoder, path: String)
        -> (activated: String, decoded: String, type: ONNXElementType, shape: [Int]) {
        var scaled = z.name
        if decoder.temperature != 1 {
            scaled = graph.add("Div", [z.name, graph.scalar(decoder.temperature, "\(path).temperature")], "\(path).tempered")
        }
        func vector() -> String { graph.integers("\(path).vector_shape", [-1]) }
        switch decoder.output.type {
        case .binary:
            let activated = graph.add("Sigmoid", [scaled], "\(path).activated")
            let decided = graph.add("GreaterOrEqual", [activated, graph.scalar(decoder.thresholds[0], "\(path).threshold")],
                                    "\(path).decided")
            return (activated, graph.add("Reshape", [decided, vector()], "\(path).decoded"), .bool, [])
        case .multilabel:
            let activated = graph.add("Sigmoid", [scaled], "\(path).activated")
            let thresholds = graph.constant("\(path).thresholds", decoder.thresholds, shape: [decoder.thresholds.count])
            return (activated, graph.add("GreaterOrEqual", [activated, thresholds], "\(path).decoded"), .bool,
                    [decoder.output.units])
        case .classification, .tokenClassification, .maskedLanguageModel:
            let activated = graph.add("Softmax", [scaled], "\(path).activated", [("axis", .integer(-1))])
            let decided = graph.add("ArgMax", [activated], "\(path).decoded", [("axis", .integer(-1)), ("keepdims", .integer(0))])
            return (activated, decided, .int64, Array(z.shape.dropLast()))
        case .boundedRegression:
            let activated = graph.add("Sigmoid", [scaled], "\(path).activated")
            return (activated, number(activated, times: decoder.scale, plus: nil, vector: vector(), path: path), .float, [])
        case .regression:
            let activated = graph.add("Identity", [scaled], "\(path).activated")
            return (activated, number(activated, times: decoder.deviation, plus: decoder.mean, vector: vector(), path: path),
                    .float, [])
        }
    }

    /// Float(Double(x) · a + b), with the products in double as `TaskDecoder` computes them.
    private func number(_ x: String, times a: Double, plus b: Double?, vector: String, path: String) -> String {
        let wide = graph.add("Cast", [x], "\(path).double", [("to", .integer(ONNXElementType.double.rawValue))])
        var value = graph.add("Mul", [wide, double(a, "\(path).scale")], "\(path).scaled")
        if let b { value = graph.add("Add", [value, double(b, "\(path).mean")], "\(path).shifted") }
        let narrow = graph.add("Cast", [value], "\(path).float", [("to", .integer(ONNXElementType.float.rawValue))])
        return graph.add("Reshape", [narrow, vector], "\(path).decoded")
    }

    private func double(_ value: Double, _ hint: String) -> String {
        graph.tensor(hint, dimensions: [], .doubles([value]))
    }

    /// A bool [N] true on every row, shaped from the first task's logits.
    private func everyRow(like value: String) -> String {
        let shape = graph.add("Shape", [value], "rows.shape")
        let rows = graph.add("Slice", [shape, graph.integers("rows.start", [0]), graph.integers("rows.end", [1])], "rows.count")
        return graph.add("ConstantOfShape", [rows], "rows.all",
                         [("value", .tensor(ONNXTensor(name: "", dimensions: [1], values: .booleans([true]))))])
    }

    /// What a condition is evaluated against: the tasks so far, their decisions and gates.
    private struct Context {
        let index: [TaskPath: Int]
        let decisions: [String]
        let gates: [Gate]
        let decoders: [TaskDecoder]
        /// True on every row.
        let rows: String
    }

    /// The truth of `condition` on the decisions so far (preconditions name earlier tasks).
    private func truth(_ condition: Condition<TaskPath>, _ context: Context) -> Truth {
        /// An atom about one task: `test` is where its decision makes the atom true (nil: on no row).
        func atom(_ path: TaskPath, _ test: (String, TaskDecoder) -> String?) -> Truth {
            guard let t = context.index[path], t < context.gates.count else { return Truth() }  // unknown on every row
            let holds = test(context.decisions[t], context.decoders[t])
            let fails = holds.map { graph.add("Not", [$0], "\(path).not") }
            switch context.gates[t] {
            case .never: return Truth()
            case .always: return Truth(yes: holds, no: fails ?? context.rows)
            case .when(let reached):
                return Truth(yes: holds.map { graph.add("And", [reached, $0], "\(path).yes") },
                             no: fails.map { graph.add("And", [reached, $0], "\(path).no") } ?? reached)
            }
        }
        switch condition {
        case .isTrue(let path):
            return atom(path) { decision, _ in decision }
        case .equals(let path, let name):
            return atom(path) { decision, decoder in classTest(decision, decoder, [name.value], path) }
        case .isIn(let path, let names):
            return atom(path) { decision, decoder in classTest(decision, decoder, names.map(\.value), path) }
        case .not(let inner):
            let t = truth(inner, context)
            return Truth(yes: t.no, no: t.yes)
        case let .and(a, b):
            let (x, y) = (truth(a, context), truth(b, context))
            return Truth(yes: both(x.yes, y.yes), no: either(x.no, y.no))
        case let .or(a, b):
            let (x, y) = (truth(a, context), truth(b, context))
            return Truth(yes: either(x.yes, y.yes), no: both(x.no, y.no))
        }
    }

    /// Whether a class index is one of `names` (nil: none of them is a class, never true).
    private func classTest(_ decision: String, _ decoder: TaskDecoder, _ names: [String], _ path: TaskPath) -> String? {
        let indices = names.compactMap { decoder.names.firstIndex(of: $0) }
        var result: String?
        for index in indices {
            let equal = graph.add("Equal", [decision, graph.integers("\(path).class", [Int64(index)], shape: [])], "\(path).is_class")
            result = either(result, equal)
        }
        return result
    }

    private func both(_ a: String?, _ b: String?) -> String? {
        guard let a, let b else { return nil }
        return graph.add("And", [a, b], "and")
    }

    private func either(_ a: String?, _ b: String?) -> String? {
        guard let a else { return b }
        guard let b else { return a }
        return graph.add("Or", [a, b], "or")
    }
}
