import FileFormats
import FlowSpec
import Foundation
import Training

/// `thresholds.yaml`: the decision threshold of each binary task and each multilabel label, as
/// `tune-thresholds` chose them. Decoding is `activated ≥ threshold`; anything not listed
/// decodes at 0.5.
public struct Thresholds: Sendable, Equatable {
    /// One tuned threshold and what it bought.
    public struct Entry: Sendable, Equatable {
        public var threshold: Float
        /// The objective it maximises: `f1`, `accuracy`, `youden`, `precision@R`, `recall@P`.
        public var metric: String
        /// The objective's value when decoding at 0.5, and at `threshold`.
        public var before: Double
        public var after: Double
        /// Rows (label present, ground-truth precondition true) it was chosen on.
        public var rows: Int

        public init(threshold: Float, metric: String, before: Double, after: Double, rows: Int) {
            self.threshold = threshold
            self.metric = metric
            self.before = before
            self.after = after
            self.rows = rows
        }
    }

    /// A task's thresholds: one for a binary task, one per label (by name) for a multilabel task.
    public enum Task: Sendable, Equatable {
        case binary(Entry)
        case labels([(name: String, entry: Entry)])

        public static func == (a: Task, b: Task) -> Bool {
            switch (a, b) {
            case let (.binary(x), .binary(y)): x == y
            case let (.labels(x), .labels(y)): x.map(\.name) == y.map(\.name) && x.map(\.entry) == y.map(\.entry)
            default: false
            }
        }
    }

    public var split: String
    public var metric: String
    /// Task paths with their thresholds, in the flow's order.
    public var tasks: [(path: String, thresholds: Task)]

    public init(split: String, metric: String, tasks: [(path: String, thresholds: Task)]) {
        self.split = split
        self.metric = metric
        self.tasks = tasks
    }

    public static func == (a: Thresholds, b: Thresholds) -> Bool {
        a.split == b.split && a.metric == b.metric && a.tasks.map(\.path) == b.tasks.map(\.path)
            && a.tasks.map(\.thresholds) == b.tasks.map(\.thresholds)
    }

    /// The thresholds a task decodes with, in the order of `names` (its labels), or nil for 0.5.
    public func values(for path: String, names: [String]) -> [Float]? {
        guard let task = tasks.first(where: { $0.path == path }) else { return nil }
        switch task.thresholds {
        case .binary(let entry): return [entry.threshold]
        case .labels(let labels):
            let byName = Dictionary(labels.map { ($0.name, $0.entry.threshold) }, uniquingKeysWith: { a, _ in a })
            return names.map { byName[$0] ?? 0.5 }
        }
    }

    // MARK: The file

    public func yaml() -> String {
        var out = """
            # Written by flowtrain tune-thresholds: decision thresholds on the activated score, chosen on
            # split '\(split)' to maximise \(metric). Decoding is `activated >= threshold`; a task or label
            # not listed decodes at 0.5. before/after: the metric at 0.5 and at the threshold.
            split: \(split)
            metric: \(FlowWriter.quote(metric))
            tasks:

            """
        func line(_ e: Entry) -> String {
            "{threshold: \(Self.number(e.threshold)), metric: \(FlowWriter.quote(e.metric)), "
                + "before: \(Self.number(e.before)), after: \(Self.number(e.after)), rows: \(e.rows)}"
        }
        for (path, task) in tasks {
            switch task {
            case .binary(let entry):
                out += "  \(FlowWriter.quote(path)): \(line(entry))\n"
            case .labels(let labels):
                out += "  \(FlowWriter.quote(path)):\n    labels:\n"
                for (name, entry) in labels { out += "      \(FlowWriter.quote(name)): \(line(entry))\n" }
            }
        }
        return out
    }

    /// Shortest text that reads back as the same value, always with a `.` so that every YAML
    /// reader takes it for a float (`1e-05` is a string to YAML 1.1).
    static func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) -> String {
        var text = "\(value)"
        if !text.contains("."), let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            text.insert(contentsOf: ".0", at: e)
        }
        return text
    }

    /// What a run's tasks accept: per binary task path an empty list, per multilabel task path
    /// its label names.
    public typealias Decisions = [String: [String]]

    /// Reads `path`; nil when there is no such file. With `decisions`, every entry must name a
    /// binary task, or a label of a multilabel task, and hold a threshold in [0, 1]: a
    /// misspelt entry is an error with a did-you-mean, not a threshold silently left at 0.5.
    public static func read(path: String, decisions: Decisions? = nil) throws(Problem) -> Thresholds? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let root: YAMLNode?
        do { root = try YAMLReader().read(Array(data), file: path) } catch {
            throw Problem(file: path, line: error.location?.line, message: error.message)
        }
        func fail(_ node: YAMLNode, _ message: String) -> Problem {
            Problem(file: path, line: node.location.line, message: message)
        }
        func mapping(_ node: YAMLNode) throws(Problem) -> [(String, YAMLNode)] {
            guard case .mapping(let pairs) = node.content else { throw fail(node, "expected a mapping, found \(node.kindDescription)") }
            var seen = Set<String>()
            for pair in pairs where !seen.insert(pair.key.scalar ?? "").inserted {
                throw fail(pair.key, "'\(pair.key.scalar ?? "")' appears twice")
            }
            return pairs.map { ($0.key.scalar ?? "", $0.value) }
        }
        func check(_ entry: Entry, _ node: YAMLNode) throws(Problem) -> Entry {
            guard decisions == nil || (0...1).contains(entry.threshold) else {
                throw fail(node, "threshold \(entry.threshold) is outside [0, 1], the range of an activated score")
            }
            return entry
        }
        func known(_ name: String, among names: [String], _ node: YAMLNode, _ what: String) throws(Problem) {
            guard !names.contains(name) else { return }
            throw fail(node, "'\(name)' is not \(what)" + (Suggestion.hint(for: name, among: names).map { " (\($0))" } ?? ""))
        }
        func entry(_ node: YAMLNode) throws(Problem) -> Entry {
            let fields = Dictionary(try mapping(node), uniquingKeysWith: { a, _ in a })
            guard let threshold = fields["threshold"]?.scalar.flatMap(Float.init), threshold.isFinite else {
                throw fail(node, "needs 'threshold:' with a number")
            }
            return Entry(threshold: threshold, metric: fields["metric"]?.scalar ?? "",
                         before: fields["before"]?.scalar.flatMap(Double.init) ?? .nan,
                         after: fields["after"]?.scalar.flatMap(Double.init) ?? .nan,
                         rows: fields["rows"]?.scalar.flatMap { Int($0) } ?? 0)
        }
        guard let root else { return Thresholds(split: "", metric: "", tasks: []) }
        let top = Dictionary(try mapping(root), uniquingKeysWith: { a, _ in a })
        var thresholds = Thresholds(split: top["split"]?.scalar ?? "", metric: top["metric"]?.scalar ?? "", tasks: [])
        if let tasks = top["tasks"], !tasks.isNull {
            guard case .mapping(let pairs) = tasks.content else { throw fail(tasks, "expected a mapping of task paths") }
            for pair in pairs {
                let (taskPath, node) = (pair.key.scalar ?? "", pair.value)
                if let decisions {
                    try known(taskPath, among: decisions.keys.sorted(), pair.key, "a binary or multilabel task of this run")
                }
                let fields = try mapping(node)
                let labelNames = decisions?[taskPath]
                if let labels = fields.first(where: { $0.0 == "labels" })?.1 {
                    if let labelNames, labelNames.isEmpty { throw fail(node, "'\(taskPath)' is a binary task: it takes threshold:, not labels:") }
                    guard case .mapping(let labelPairs) = labels.content else { throw fail(labels, "expected a mapping of labels") }
                    var entries: [(name: String, entry: Entry)] = []
                    for labelPair in labelPairs {
                        let name = labelPair.key.scalar ?? ""
                        if let labelNames { try known(name, among: labelNames, labelPair.key, "a label of '\(taskPath)'") }
                        entries.append((name, try check(try entry(labelPair.value), labelPair.value)))
                    }
                    _ = try mapping(labels)  // duplicate labels
                    thresholds.tasks.append((taskPath, .labels(entries)))
                } else {
                    if let labelNames, !labelNames.isEmpty {
                        throw fail(node, "'\(taskPath)' is a multilabel task: give each label a threshold under labels:")
                    }
                    thresholds.tasks.append((taskPath, .binary(try check(try entry(node), node))))
                }
            }
            _ = try mapping(tasks)  // duplicate task paths
        }
        return thresholds
    }
}
