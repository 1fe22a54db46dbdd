/// Writes `YAMLNode`s back as YAML text that `YAMLReader` reads as the same nodes: mappings
/// in block style down from the top, lists and anything inside a list in flow style (`[a, {b: 1}]`).
/// A scalar stays plain when it was plain and reads back the same (names, numbers, booleans),
/// and is double-quoted otherwise, so that a quoted `"1"` stays a string.
public enum YAMLWriter {
    /// The document: `node` should be a mapping (a flow); anything else is written on one line.
    public static func document(_ node: YAMLNode) -> String {
        guard case .mapping(let pairs) = node.content else { return inline(node) + "\n" }
        var out = ""
        block(pairs, indent: "", into: &out)
        return out
    }

    /// `node` on one line, in flow style.
    public static func inline(_ node: YAMLNode) -> String {
        switch node.content {
        case .scalar(let text, let isPlain): return scalar(text, isPlain: isPlain, isNull: node.isNull)
        case .sequence(let items): return "[" + items.map(inline).joined(separator: ", ") + "]"
        case .mapping(let pairs):
            return "{" + pairs.map { key($0.key) + ": " + inline($0.value) }.joined(separator: ", ") + "}"
        }
    }

    private static func block(_ pairs: [YAMLNode.Pair], indent: String, into out: inout String) {
        for pair in pairs {
            out += indent + key(pair.key) + ":"
            if case .mapping(let inner) = pair.value.content, !inner.isEmpty {
                out += "\n"
                block(inner, indent: indent + "  ", into: &out)
            } else {
                out += " " + inline(pair.value) + "\n"
            }
        }
    }

    private static func key(_ node: YAMLNode) -> String {
        let text = node.scalar ?? inline(node)
        return scalar(text, isPlain: true, isNull: false)
    }

    private static func scalar(_ text: String, isPlain: Bool, isNull: Bool) -> String {
        if isNull { return "null" }
        return isPlain && readsBackPlain(text) ? text : FlowWriter.quote(text)
    }

    /// Names (`relu`, `dwa`, `door_open`), numbers (`-0.5`, `1e-05`) and booleans: text with no
    /// character YAML gives a meaning to, which a plain scalar reads back as itself.
    private static func readsBackPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        let isWord = { (c: Unicode.Scalar) in
            c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
        }
        let rest = text.unicodeScalars.allSatisfy { isWord($0) || $0 == "." || $0 == "-" || $0 == "+" }
        return rest && (isWord(first) || Double(text) != nil)
    }
}
