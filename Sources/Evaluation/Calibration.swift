import FileFormats
import FlowSpec
import Foundation
import Tasks
import Training

/// `calibration.yaml`: the temperature T of each binary, multilabel and classification task, as
/// `calibrate` fitted them. Activations are σ(z / T) and softmax(z / T); a task not listed keeps
/// T = 1. Read by every command that activates a run's logits (`TrainedRun.decoders`).
public struct Calibration: Sendable, Equatable {
    public static let fileName = "calibration.yaml"

    /// One task's temperature and what it bought on the rows it was fitted on.
    public struct Entry: Sendable, Equatable {
        public var temperature: Float
        /// Rows (label present, ground-truth precondition true) it was fitted on.
        public var rows: Int
        /// Mean negative log-likelihood and expected calibration error at T = 1 and at T; nil
        /// where there were no rows.
        public var nllBefore: Double?, nllAfter: Double?
        public var eceBefore: Double?, eceAfter: Double?
        /// Why T stayed 1, or that the fit reached the edge of its range.
        public var note: String?

        public init(temperature: Float, rows: Int, nllBefore: Double? = nil, nllAfter: Double? = nil,
                    eceBefore: Double? = nil, eceAfter: Double? = nil, note: String? = nil) {
            self.temperature = temperature
            self.rows = rows
            self.nllBefore = nllBefore
            self.nllAfter = nllAfter
            self.eceBefore = eceBefore
            self.eceAfter = eceAfter
            self.note = note
        }
    }

    public var split: String
    /// Task paths with their temperatures, in the flow's order.
    public var tasks: [(path: String, entry: Entry)]

    public init(split: String, tasks: [(path: String, entry: Entry)]) {
        self.split = split
        self.tasks = tasks
    }

    public static func == (a: Calibration, b: Calibration) -> Bool {
        a.split == b.split && a.tasks.map(\.path) == b.tasks.map(\.path) && a.tasks.map(\.entry) == b.tasks.map(\.entry)
    }

    /// The temperature a task's logits are divided by: 1 when it is not listed.
    public func temperature(for path: String) -> Float {
        tasks.first { $0.path == path }?.entry.temperature ?? 1
    }

    // MARK: The file

    public func yaml() -> String {
        var out = """
            # Written by flowtrain calibrate: one temperature T per binary, multilabel and classification
            # task, fitted on split '\(split)' on the rows where the task counts (its label present, its
            # precondition true on the labels). Activations are sigmoid(z / T) and softmax(z / T); a task
            # not listed keeps T = 1. nll_*: mean negative log-likelihood, ece_*: expected calibration
            # error (15 bins), at T = 1 (before) and at T (after), on those rows.
            split: \(FlowWriter.quote(split))
            tasks:

            """
        for (path, entry) in tasks {
            var fields = ["temperature: \(Thresholds.number(entry.temperature))", "rows: \(entry.rows)"]
            for (key, value) in [("nll_before", entry.nllBefore), ("nll_after", entry.nllAfter),
                                 ("ece_before", entry.eceBefore), ("ece_after", entry.eceAfter)] {
                if let value, value.isFinite { fields.append("\(key): \(Thresholds.number(value))") }
            }
            if let note = entry.note { fields.append("note: \(FlowWriter.quote(note))") }
            out += "  \(FlowWriter.quote(path)): {\(fields.joined(separator: ", "))}\n"
        }
        return out
    }

    static let entryKeys = ["temperature", "rows", "nll_before", "nll_after", "ece_before", "ece_after", "note"]

    /// Reads `path`; nil when there is no such file. With `tasks` (every task path of the run
    /// and its type), each entry must name a binary, multilabel or classification task of the
    /// run and hold a finite temperature above 0: a misspelt or impossible entry is an error at
    /// its line and column, not a task silently left uncalibrated.
    public static func read(path: String, tasks types: [String: TaskType]? = nil) throws(Problem) -> Calibration? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let root: YAMLNode?
        do { root = try YAMLReader().read(Array(data), file: path) } catch {
            throw Problem(file: path, line: error.location?.line, column: error.location?.column, message: error.message)
        }
        func fail(_ node: YAMLNode, _ message: String) -> Problem {
            Problem(file: path, line: node.location.line, column: node.location.column, message: message)
        }
        func hint(_ name: String, _ names: [String]) -> String {
            Suggestion.hint(for: name, among: names).map { " (\($0))" } ?? ""
        }
        /// The pairs of a mapping whose keys are all among `keys` (any, when nil), each once.
        func mapping(_ node: YAMLNode, _ what: String, keys: [String]? = nil) throws(Problem) -> [YAMLNode.Pair] {
            guard case .mapping(let pairs) = node.content else {
                throw fail(node, "expected \(what), found \(node.kindDescription)")
            }
            var seen = Set<String>()
            for pair in pairs {
                let key = pair.key.scalar ?? ""
                guard seen.insert(key).inserted else { throw fail(pair.key, "'\(key)' appears twice") }
                if let keys, !keys.contains(key) { throw fail(pair.key, "unknown key '\(key)'" + hint(key, keys)) }
            }
            return pairs
        }
        func byKey(_ pairs: [YAMLNode.Pair]) -> [String: YAMLNode] {
            Dictionary(pairs.map { ($0.key.scalar ?? "", $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        func number(_ node: YAMLNode, _ key: String) throws(Problem) -> Double {
            guard case .scalar(let text, true) = node.content, let value = Double(text) else {
                throw fail(node, "'\(key)' must be a number, found \(node.kindDescription)")
            }
            return value
        }
        func entry(_ node: YAMLNode, _ taskPath: String) throws(Problem) -> Entry {
            let fields = byKey(try mapping(node, "a mapping with temperature:", keys: entryKeys))
            guard let temperatureNode = fields["temperature"] else {
                throw fail(node, "'\(taskPath)' needs 'temperature:' with a number above 0")
            }
            let temperature = try number(temperatureNode, "temperature")
            guard temperature.isFinite, temperature > 0, Float(temperature).isNormal else {
                throw fail(temperatureNode, "temperature \(temperatureNode.scalar ?? "") must be a finite number above 0: "
                           + "the logits are divided by it")
            }
            var rows = 0
            if let node = fields["rows"] {
                guard let count = node.scalar.flatMap({ Int($0) }), count >= 0 else {
                    throw fail(node, "'rows' must be a whole number of rows, found \(node.kindDescription)")
                }
                rows = count
            }
            func optional(_ key: String) throws(Problem) -> Double? {
                guard let node = fields[key] else { return nil }
                return try number(node, key)
            }
            return Entry(temperature: Float(temperature), rows: rows, nllBefore: try optional("nll_before"),
                         nllAfter: try optional("nll_after"), eceBefore: try optional("ece_before"),
                         eceAfter: try optional("ece_after"), note: fields["note"]?.scalar)
        }
        guard let root else { return Calibration(split: "", tasks: []) }
        let top = byKey(try mapping(root, "a mapping with split: and tasks:", keys: ["split", "tasks"]))
        var calibration = Calibration(split: top["split"]?.scalar ?? "", tasks: [])
        guard let tasks = top["tasks"], !tasks.isNull else { return calibration }
        for pair in try mapping(tasks, "a mapping of task paths") {
            let taskPath = pair.key.scalar ?? ""
            if let types {
                guard let type = types[taskPath] else {
                    throw fail(pair.key, "'\(taskPath)' is not a task of this run" + hint(taskPath, types.keys.sorted()))
                }
                guard TemperatureFit.applies(to: type) else {
                    throw fail(pair.key, "'\(taskPath)' is a \(type.rawValue) task: only binary, multilabel and "
                               + "classification tasks are calibrated")
                }
            }
            calibration.tasks.append((taskPath, try entry(pair.value, taskPath)))
        }
        return calibration
    }
}
