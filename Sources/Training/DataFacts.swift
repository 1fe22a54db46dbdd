import FlowSpec

/// The sizes a flow leaves to the data: numeric widths for column globs and missing-value
/// indicators, vocabulary sizes, and class lists not written in the flow. Training reads them
/// from the training split; `bench` makes them up.
public struct DataFacts: Sendable {
    /// Values per sample of each numeric input (columns plus missing-value indicators).
    public var numericWidth: [String: Int] = [:]
    /// Columns of each numeric input (the rest of its width are indicators).
    public var numericColumns: [String: Int] = [:]
    /// Bin edges of each column of a numeric input with `encoding: piecewise_linear`.
    public var binEdges: [String: [[Float]]] = [:]
    /// Entries of each category or tokens input's vocabulary, reserved slots included.
    public var vocabularySize: [String: Int] = [:]
    /// Class (or label) names of each classification, multilabel and token classification task.
    public var classes: [TaskPath: [String]] = [:]

    public init() {}

    /// Facts for a flow without data: listed sizes where the flow lists them (classes,
    /// `max_vocabulary`), `size` otherwise.
    public static func synthetic(for flow: ResolvedFlow, size: Int = 8) -> DataFacts {
        var facts = DataFacts()
        for input in flow.inputs {
            switch input.input.kind {
            case .numeric(let columns, _, _):
                let count = if case .names(let names) = columns { names.count } else { size }
                facts.numericWidth[input.input.name] = count
                facts.numericColumns[input.input.name] = count
                if case .piecewiseLinear(let bins, _) = input.input.numericEncoding {
                    // Evenly spaced over [−2, 2], where most standardised values fall.
                    let edges = (0...bins).map { Float(-2 + 4 * Double($0) / Double(bins)) }
                    facts.binEdges[input.input.name] = Array(repeating: edges, count: count)
                }
            case .category:
                facts.vocabularySize[input.input.name] = size
            case .tokens(let settings):
                // A vocabulary the flow bounds is taken as full: `bench` then times its size.
                facts.vocabularySize[input.input.name] = settings.maxVocabulary ?? size
            case .image:
                break
            }
        }
        for task in flow.tasks where task.spec.type.hasClasses {
            facts.classes[task.path] = task.spec.classes?.value ?? (0..<size).map { "class\($0)" }
        }
        return facts
    }
}
