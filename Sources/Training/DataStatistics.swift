import FlowSpec

/// What the training split teaches about the data, saved in `state.json` and used unchanged by
/// every later command: vocabularies, classes, normalisation and standardisation statistics.
public struct DataStatistics: Codable, Sendable, Equatable {
    /// Per numeric input: its columns, which of them get a missing-value indicator, and the
    /// offset and scale that normalise each column (x − offset) / scale.
    public var numeric: [String: NumericStatistics] = [:]
    /// Per category or tokens input: the values in index order. Index 0 is the unknown value
    /// (tokens: 0 is padding, 1 unknown, 2 the mask; `TokenSettings.reserved`).
    public var vocabularies: [String: [String]] = [:]
    /// Per classification, multilabel or token task path: its classes or labels in index order.
    public var classes: [String: [String]] = [:]
    /// Per regression task path: the training labels' mean and standard deviation.
    public var regression: [String: Standardization] = [:]

    public init() {}

    /// The sizes the model compiler needs.
    public var facts: DataFacts {
        var facts = DataFacts()
        for (name, stats) in numeric {
            facts.numericWidth[name] = stats.columns.count + stats.indicators.count
            facts.numericColumns[name] = stats.columns.count
            facts.binEdges[name] = stats.binEdges
        }
        for (name, values) in vocabularies { facts.vocabularySize[name] = values.count }
        for (path, names) in classes { facts.classes[TaskPath(path.split(separator: ".").map(String.init))] = names }
        return facts
    }
}

/// How one numeric input's columns are scaled.
public struct NumericStatistics: Codable, Sendable, Equatable {
    public var columns: [String]
    /// Columns that had an empty cell in training and so get a 0/1 indicator (`missing: mean`).
    public var indicators: [String]
    public var offsets: [Float]
    public var scales: [Float]
    /// Per column: the training mean, which replaces an empty cell (`missing: mean`).
    public var means: [Float]
    /// Per column, with `encoding: piecewise_linear`: the bin edges (`QuantileBins`), in the
    /// normalised values the network sees.
    public var binEdges: [[Float]]? = nil
}

/// A regression target's training mean and standard deviation.
public struct Standardization: Codable, Sendable, Equatable {
    public var mean: Double
    public var deviation: Double
}
