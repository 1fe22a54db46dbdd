import FileFormats
import FlowSpec
import Foundation

/// `state.json` read back by the commands after training. Users can open and edit it, and the
/// encoder and the model compiler index by what it says, so every entry the flow needs is
/// checked against the flow first; a problem names the file and the key.
extension RunState {
    static let editedHint = "; state.json holds what training learned: restore the file, or train the run again"

    /// Reads the state at `path` of a run of `flow`.
    public static func read(path: String, for flow: ResolvedFlow) throws(Problem) -> RunState {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(file: path, message: "cannot be read")
        }
        let state: RunState
        do { state = try JSONDecoder().decode(RunState.self, from: data) } catch let error as DecodingError {
            throw Problem(file: path, message: Self.describe(error) + editedHint)
        } catch {
            throw Problem(file: path, message: "cannot be read: \(error.localizedDescription)")
        }
        do throws(StateProblem) { try state.statistics.check(against: flow) } catch {
            throw Problem(file: path, message: "\(error.key): \(error.message)" + editedHint)
        }
        return state
    }

    /// `statistics.numeric.x.offsets: is not a list`: the key path as the user sees it in the file.
    private static func describe(_ error: DecodingError) -> String {
        func key(_ path: [any CodingKey]) -> String {
            path.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
        }
        func located(_ path: [any CodingKey], _ message: String) -> String {
            path.isEmpty ? message : "\(key(path)): \(message)"
        }
        switch error {
        case let .typeMismatch(type, context):
            let name = String(describing: type)
            let kind = name.hasPrefix("Array") ? "a list" : name.hasPrefix("Dictionary") ? "an object"
                : name == "String" ? "text" : ["Float", "Double", "Int"].contains(name) ? "a number" : name
            return located(context.codingPath, "is not \(kind)")
        case let .valueNotFound(_, context):
            return located(context.codingPath, "is null")
        case let .keyNotFound(missing, context):
            return located(context.codingPath, "has no '\(missing.stringValue)'")
        case let .dataCorrupted(context):
            // Foundation reports a number a Float cannot hold as invalid JSON, without a path.
            return located(context.codingPath, context.codingPath.isEmpty
                           ? "is not valid JSON, or holds a number beyond float32's range (±3.4e38)" : context.debugDescription)
        @unknown default:
            return "cannot be read: \(error.localizedDescription)"
        }
    }
}

/// A value of `state.json` that the flow cannot use: its key path and what is wrong.
struct StateProblem: Error {
    var key: String
    var message: String
}

extension DataStatistics {
    /// Whether every entry `flow` reads is there and usable: lists as long as the input's
    /// columns, scales that can divide, bin edges the encoding can bin with, vocabularies and
    /// classes present, regression deviations above 0.
    func check(against flow: ResolvedFlow) throws(StateProblem) {
        for input in flow.inputs.map(\.input) {
            switch input.kind {
            case .numeric(let selection, _, _):
                guard let stats = numeric[input.name] else {
                    throw StateProblem(key: "statistics.numeric", message: "has no entry for input '\(input.name)'")
                }
                try stats.check(input, selection, key: "statistics.numeric.\(input.name)")
            case .category, .tokens:
                guard let vocabulary = vocabularies[input.name] else {
                    throw StateProblem(key: "statistics.vocabularies", message: "has no entry for input '\(input.name)'")
                }
                let key = "statistics.vocabularies.\(input.name)"
                if case .tokens = input.kind {
                    // Runs before the mask id have ["<pad>", "<unknown>", tokens...]: their ids
                    // from 2 on would all read one further.
                    guard vocabulary.starts(with: TokenSettings.reserved) else {
                        throw StateProblem(key: key, message: "does not start with the reserved ids "
                                           + TokenSettings.reserved.map { "\"\($0)\"" }.joined(separator: ", ")
                                           + " (padding, unknown, mask); a run trained before the mask id was added "
                                           + "must be trained again")
                    }
                } else if vocabulary.isEmpty {
                    throw StateProblem(key: key, message: "has \(counted(vocabulary.count, "value")); the first is the unknown value")
                }
                try checkUnique(vocabulary, key: key)
            case .image:
                break
            }
        }
        for task in flow.tasks {
            let path = task.path.description
            switch task.spec.type {
            case .classification, .multilabel, .tokenClassification:
                guard let names = classes[path] else {
                    throw StateProblem(key: "statistics.classes", message: "has no entry for task '\(path)'")
                }
                guard !names.isEmpty else { throw StateProblem(key: "statistics.classes.\(path)", message: "is empty") }
                try checkUnique(names, key: "statistics.classes.\(path)")
            case .maskedLanguageModel:
                break  // its classes are its input's vocabulary
            case .regression:
                guard let standardization = regression[path] else {
                    throw StateProblem(key: "statistics.regression", message: "has no entry for task '\(path)'")
                }
                let deviation = standardization.deviation
                guard deviation.isFinite, deviation > 0 else {
                    throw StateProblem(key: "statistics.regression.\(path).deviation",
                                       message: "must be a finite number above 0, not \(shown(deviation))")
                }
            case .binary, .boundedRegression:
                break
            }
        }
    }
}

extension NumericStatistics {
    fileprivate func check(_ input: Input, _ selection: ColumnSelection, key: String) throws(StateProblem) {
        if case .names(let names) = selection, names != columns {
            throw StateProblem(key: "\(key).columns", message: "are \(columns), but input '\(input.name)' lists \(names)")
        }
        for (name, values) in [("offsets", offsets), ("scales", scales), ("means", means)] where values.count != columns.count {
            throw StateProblem(key: "\(key).\(name)", message: "has \(counted(values.count, "value")) for the "
                               + "\(counted(columns.count, "column")) of input '\(input.name)'")
        }
        for (c, column) in columns.enumerated() {
            for (name, value) in [("offsets", offsets[c]), ("means", means[c])] where !value.isFinite {
                throw StateProblem(key: "\(key).\(name)[\(c)] (column '\(column)')",
                                   message: "must be a finite number, not \(shown(Double(value)))")
            }
            guard scales[c].isFinite, scales[c] != 0 else {
                throw StateProblem(key: "\(key).scales[\(c)] (column '\(column)')",
                                   message: "must be a finite number other than 0 (values are divided by it), "
                                       + "not \(shown(Double(scales[c])))")
            }
        }
        if let missing = indicators.first(where: { !columns.contains($0) }) {
            throw StateProblem(key: "\(key).indicators", message: "names '\(missing)', which is not among its columns")
        }
        guard case .piecewiseLinear(let bins, _)? = input.numericEncoding else { return }
        guard let binEdges else {
            throw StateProblem(key: key, message: "has no binEdges, which input '\(input.name)' needs for encoding: piecewise_linear")
        }
        guard binEdges.count == columns.count else {
            throw StateProblem(key: "\(key).binEdges", message: "has \(counted(binEdges.count, "list")) for the "
                               + "\(counted(columns.count, "column")) of input '\(input.name)'")
        }
        for (c, edges) in binEdges.enumerated() {
            let at = "\(key).binEdges[\(c)] (column '\(columns[c])')"
            // A column without a range has no bins; one with bins has an edge more than bins.
            if edges.count == 1 { throw StateProblem(key: at, message: "has 1 edge; a column has none or at least 2") }
            guard edges.count <= bins + 1 else {
                throw StateProblem(key: at, message: "has \(edges.count) edges; input '\(input.name)' has "
                                   + "\(counted(bins, "bin")), so at most \(bins + 1)")
            }
            if let bad = edges.first(where: { !$0.isFinite }) {
                throw StateProblem(key: at, message: "must hold finite numbers, not \(shown(Double(bad)))")
            }
            for (previous, edge) in zip(edges, edges.dropFirst()) where edge <= previous {
                throw StateProblem(key: at, message: "the edges must increase, but \(shown(Double(edge))) follows "
                                   + "\(shown(Double(previous)))")
            }
        }
    }
}

/// Two entries of one name would be one value or class with two indices.
private func checkUnique(_ names: [String], key: String) throws(StateProblem) {
    var seen = Set<String>()
    if let repeated = names.first(where: { !seen.insert($0).inserted }) {
        throw StateProblem(key: key, message: "holds '\(repeated)' twice")
    }
}

/// `1 value`, `3 values`.
private func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

/// A number as a user wrote it: `0`, `0.75`, `1e+39`.
private func shown(_ value: Double) -> String { String(format: "%g", value) }
