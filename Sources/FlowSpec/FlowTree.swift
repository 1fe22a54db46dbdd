import FileFormats

/// A flow written out in full (`FlowWriter`: every default spelled out) and read back as YAML:
/// the tree a search parameter's path points into, so that a path may name a value the flow
/// file leaves to its default (`flow.door_locked.weight`, `train.schedule.warmup_epochs`).
/// A trial's flow is this tree with the trial's values in place (`replacing`, then `yaml`).
public struct FlowTree: Sendable {
    public private(set) var root: YAMLNode

    /// `flow` written out with its data paths as `dataPaths` gives them (absolute ones, for a
    /// flow file written elsewhere than the original).
    public init(_ flow: Flow, dataPaths: (String) -> String = { $0 }) throws(Problem) {
        let text = FlowWriter.yaml(flow, dataPaths: dataPaths)
        guard let root = try YAMLReader().read(Array(text.utf8), file: flow.file) else {
            throw Problem(message: "the flow written out in full is empty", at: nil)
        }
        self.root = root
    }

    /// What a path leads to: its node, or why it leads nowhere.
    public enum Lookup {
        case found(YAMLNode)
        /// `steps[..<step]` leads to a node where `steps[step]` is not found; `reason` says
        /// why, `hint` what was perhaps meant.
        case notFound(step: Int, reason: String, hint: String?)
    }

    /// Follows `steps` from the top: a key of a mapping, or a position (0, 1…) in a list.
    public func lookup(_ steps: [String]) -> Lookup {
        var node = root
        for (index, step) in steps.enumerated() {
            let here = index == 0 ? "the flow" : "'" + steps[..<index].joined(separator: ".") + "'"
            switch node.content {
            case .mapping(let pairs):
                guard let pair = pairs.first(where: { $0.key.scalar == step }) else {
                    let keys = pairs.compactMap(\.key.scalar)
                    // The keys there, unless one is clearly what was meant.
                    let hint = Suggestion.hint(for: step, among: keys)
                    let listed = hint == nil ? " (it has \(Self.list(keys)))" : ""
                    return .notFound(step: index, reason: "\(here) has no key '\(step)'" + listed, hint: hint)
                }
                node = pair.value
            case .sequence(let items):
                guard let position = Int(step), String(position) == step, items.indices.contains(position) else {
                    let span = items.isEmpty ? "none" : "0 to \(items.count - 1)"
                    return .notFound(step: index, reason: "\(here) is a list of \(items.count); '\(step)' is not one of its "
                                     + "positions (\(span))", hint: nil)
                }
                node = items[position]
            case .scalar:
                return .notFound(step: index, reason: "\(here) is the value \(YAMLWriter.inline(node)), which has no '\(step)'",
                                 hint: nil)
            }
        }
        return .found(node)
    }

    /// The tree with the node at `steps` (which `lookup` finds) replaced by `value`.
    public func replacing(_ steps: [String], with value: YAMLNode) -> FlowTree {
        var tree = self
        tree.root = Self.replace(root, steps[...], with: value)
        return tree
    }

    /// The tree as YAML text: a flow file.
    public var yaml: String { YAMLWriter.document(root) }

    private static func replace(_ node: YAMLNode, _ steps: ArraySlice<String>, with value: YAMLNode) -> YAMLNode {
        guard let step = steps.first else { return value }
        var node = node
        switch node.content {
        case .mapping(var pairs):
            if let i = pairs.firstIndex(where: { $0.key.scalar == step }) {
                pairs[i].value = replace(pairs[i].value, steps.dropFirst(), with: value)
            }
            node.content = .mapping(pairs)
        case .sequence(var items):
            if let i = Int(step), items.indices.contains(i) { items[i] = replace(items[i], steps.dropFirst(), with: value) }
            node.content = .sequence(items)
        case .scalar: break
        }
        return node
    }

    /// `a, b and c`, the first ten.
    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(10).map { "'\($0)'" }
        let more = names.count > 10 ? " and \(names.count - 10) more" : ""
        guard shown.count > 1 else { return (shown.first ?? "no key") + more }
        let last = shown[shown.count - 1]
        return shown.dropLast().joined(separator: ", ") + (more.isEmpty ? " and " + last : ", " + last + more)
    }
}
