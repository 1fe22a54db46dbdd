import FlowSpec
import Foundation
import Tasks

/// The tree explanation (docs/commands/explain.md): per sample, each task's decision, activation and
/// logits, hung under the task its own `when` names (or under its nested flow, or the root),
/// with every task and flow whose precondition fails on the decoded predictions left out
/// together with everything under it.
///
/// Where a node hangs: a task or flow whose own `when` refers to exactly one task of its own
/// nested flow (or, at the top, of the whole tree) hangs under that task ("door_open" under
/// "camera_blocked"); any other node under its enclosing flow. A node can only be reached when
/// the node it hangs under is (an atom about a task that was not reached is unknown), so
/// pruning a node prunes exactly what hangs below it.
public struct Explanation {
    /// One node of a sample's tree.
    public struct Node: Encodable, Sendable, Equatable {
        public var name: String
        public var path: String
        /// `task` or `flow`.
        public var kind: String
        /// The task type, for tasks.
        public var type: String?
        public var decoded: Decoded?
        public var activated: [Float]?
        public var logits: [Float]?
        public var children: [Node]
    }

    /// A decision as JSON carries it: 1 or 0 (a binary task's, spelt as in `predictions.csv`),
    /// a class name, a list of label names or a number.
    public enum Decoded: Encodable, Sendable, Equatable {
        case flag(Bool), name(String), names([String]), number(Double)

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .flag(let value): try container.encode(value ? 1 : 0)
            case .name(let value): try container.encode(value)
            case .names(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            }
        }
    }

    /// A sample's tree: its data row and the nodes under the root.
    public struct Sample: Encodable, Sendable, Equatable {
        public var row: Int
        public var children: [Node]
    }

    /// The static layout: where each task (by model index) and each nested flow hangs.
    private enum Key: Hashable {
        case root, task(Int), flow(TaskPath)
    }

    private struct Layout {
        var children: [Key: [Key]] = [:]
        var flowWhen: [TaskPath: Condition<TaskPath>?] = [:]
    }

    private let predictions: SplitPredictions
    private let layout: Layout

    public init(_ predictions: SplitPredictions, tree: [TaskTreeNode]) {
        self.predictions = predictions
        var layout = Layout()
        let indexByPath = Dictionary(predictions.tasks.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
        func place(_ nodes: [TaskTreeNode], enclosing: Key, scope: [String]) {
            for node in nodes {
                let key: Key, own: Condition<TaskPath>?
                switch node {
                case .task(let index):
                    key = .task(index)
                    own = predictions.tasks[index].ownPrecondition
                case .flow(let path, let when, _):
                    key = .flow(path)
                    own = when
                    layout.flowWhen[path] = when
                }
                let references = Set(own?.references ?? [])
                var parent = enclosing
                // Under the named task only when it sits inside the same nested flow: a node
                // never leaves its flow, so leaving out a flow leaves out exactly its subtree.
                if references.count == 1, let only = references.first, let t = indexByPath[only],
                   only.components.starts(with: scope) {
                    parent = .task(t)
                }
                layout.children[parent, default: []].append(key)
                if case .flow(let path, _, let children) = node {
                    place(children, enclosing: .flow(path), scope: path.components)
                }
            }
        }
        place(tree, enclosing: .root, scope: [])
        self.layout = layout
    }

    /// The explanation of split row `r` (its index in the split, not its data row).
    public func sample(_ r: Int) -> Sample {
        Sample(row: predictions.outputs.split.sourceRows[r], children: nodes(under: .root, row: r))
    }

    private func nodes(under parent: Key, row r: Int) -> [Node] {
        (layout.children[parent] ?? []).compactMap { key -> Node? in
            switch key {
            case .root: return nil
            case .task(let t):
                // A masked language model predicts nothing about the row as written.
                let task = predictions.tasks[t]
                guard predictions.reached[t][r], task.spec.type != .maskedLanguageModel else { return nil }
                let output = predictions.decoded[t][r]
                // A token classification's logits at the text's tokens, not at the padding.
                let logits = predictions.outputs.logits(t, r)
                let kept = predictions.outputs.tokens(t, r).map { $0 * predictions.decoders[t].output.units } ?? logits.count
                return Node(name: task.path.name, path: task.path.description, kind: "task",
                            type: task.spec.type.rawValue, decoded: decoded(output.value, predictions.decoders[t]),
                            activated: output.activated, logits: Array(logits.prefix(kept)),
                            children: nodes(under: key, row: r))
            case .flow(let path):
                guard flowReached(path, row: r) else { return nil }
                return Node(name: path.name, path: path.description, kind: "flow", type: nil, decoded: nil,
                            activated: nil, logits: nil, children: nodes(under: key, row: r))
            }
        }
    }

    /// A nested flow is reached when every flow around it is and its own `when` holds.
    private func flowReached(_ path: TaskPath, row r: Int) -> Bool {
        var components = path.components
        while !components.isEmpty {
            if let when = layout.flowWhen[TaskPath(components)] ?? nil, !predictions.holds(when, row: r) { return false }
            components.removeLast()
        }
        return true
    }

    private func decoded(_ value: DecodedValue, _ decoder: TaskDecoder) -> Decoded {
        switch value {
        case .flag(let yes): .flag(yes)
        case .classIndex(let index): .name(index < decoder.names.count ? decoder.names[index] : "\(index)")
        case .labels(let on): .names(on.indices.filter { on[$0] }.map { $0 < decoder.names.count ? decoder.names[$0] : "\($0)" })
        case .classIndices(let indices): .names(indices.map { $0 < decoder.names.count ? decoder.names[$0] : "\($0)" })
        case .number(let number): .number(number)
        }
    }

    // MARK: Rendering

    /// The trees as text, one sample after another:
    /// `├── row 0` / `│   └── camera_blocked | decoded: 0, activated: 0.0001, logits: -9.21`.
    public static func text(_ samples: [Sample]) -> String {
        var out = ""
        for (i, sample) in samples.enumerated() {
            let last = i == samples.count - 1
            out += (last ? "└── " : "├── ") + "row \(sample.row)\n"
            render(sample.children, prefix: last ? "    " : "│   ", into: &out)
        }
        return out
    }

    private static func render(_ nodes: [Node], prefix: String, into out: inout String) {
        for (i, node) in nodes.enumerated() {
            let last = i == nodes.count - 1
            out += prefix + (last ? "└── " : "├── ") + line(node) + "\n"
            render(node.children, prefix: prefix + (last ? "    " : "│   "), into: &out)
        }
    }

    static func line(_ node: Node) -> String {
        guard let decoded = node.decoded, let activated = node.activated, let logits = node.logits else { return node.name }
        let value: String
        var shownActivated = activated, shownLogits = logits
        switch decoded {
        case .flag(let yes): value = yes ? "1" : "0"
        case .name(let name):
            value = name
            // A class: the probability and logit of the class decided.
            if let top = activated.indices.max(by: { activated[$0] < activated[$1] }) {
                shownActivated = [activated[top]]
                shownLogits = [logits[top]]
            }
        case .names(let names): value = "[" + names.joined(separator: ", ") + "]"
        case .number(let number): value = format(number)
        }
        func list(_ values: [Float]) -> String {
            values.count == 1 ? format(Double(values[0])) : "[" + values.map { format(Double($0)) }.joined(separator: ", ") + "]"
        }
        return "\(node.name) | decoded: \(value), activated: \(list(shownActivated)), logits: \(list(shownLogits))"
    }

    static func format(_ value: Double) -> String { String(format: "%.4g", value) }

    /// The same trees as a JSON array of samples.
    public static func json(_ samples: [Sample]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A diverged model's inf or NaN still reads back (JSON has no such numbers).
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                      nan: "nan")
        do { return String(decoding: try encoder.encode(samples), as: UTF8.self) + "\n" } catch {
            return "[]\n"  // unreachable: every value is encodable with the strategy above
        }
    }
}
