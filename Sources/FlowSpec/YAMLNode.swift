/// A YAML node with the location it was written at, as the flow language reads it.
///
/// Aliases are resolved when the document is read: an alias is the anchored node itself (shared,
/// not copied, thanks to copy-on-write arrays). `size` counts the nodes a full walk would visit,
/// which is how the reader refuses alias bombs before anything walks them.
public struct YAMLNode: Sendable {
    /// The three kinds of YAML content.
    public enum Content: Sendable {
        /// A scalar's text; `isPlain` is false for quoted and block scalars and explicit `!!str`,
        /// which are always strings (`"1"` is not a number, `"null"` is not null).
        case scalar(String, isPlain: Bool)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    /// One key–value entry of a mapping, in document order.
    public struct Pair: Sendable {
        public var key: YAMLNode
        public var value: YAMLNode
    }

    public var content: Content
    public var location: SourceLocation
    /// Nodes visited by a full walk of this node, aliases expanded.
    public var size: Int
    /// Levels of nesting below and including this node, aliases expanded.
    public var depth: Int = 1
    /// For a scalar: its text stands on one line exactly as written (no escapes, no folding),
    /// so a character's offset in the text gives its column.
    public var isVerbatim = true

    /// A plain scalar written by flowtrain itself (a number a search drew), as if read at `location`.
    public static func plain(_ text: String, at location: SourceLocation) -> YAMLNode {
        YAMLNode(content: .scalar(text, isPlain: true), location: location, size: 1)
    }

    /// A plain scalar that YAML reads as null: empty, `~`, `null`.
    public var isNull: Bool {
        if case .scalar(let text, true) = content { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    /// The scalar's text, or nil for sequences and mappings.
    public var scalar: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// What a user would call this kind of node in an error message.
    public var kindDescription: String {
        switch content {
        case .scalar(let text, _) where isNull: return text.isEmpty ? "nothing" : "null"
        case .scalar(let text, _): return "'\(text.count > 40 ? String(text.prefix(40)) + "…" : text)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}
