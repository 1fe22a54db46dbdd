/// Reads one YAML mapping key by key, with typed accessors that report wrong types and
/// out-of-range values at the offending node, and a `finish` that reports every key nobody read.
///
/// Accessors return nil after reporting a problem, so decoding goes on and a file with several
/// independent mistakes gets all of them.
struct MappingReader {
    let node: YAMLNode
    /// How errors name this mapping: `input 'image'`, `task 'door_open'`, `train.optimizer`.
    let context: String
    let sink: DiagnosticSink
    /// Where "missing required key" points: the key that names this mapping when there is one
    /// (`door_open:`), else the mapping itself.
    let ownerLocation: SourceLocation
    private(set) var pairs: [YAMLNode.Pair] = []
    private var read: Set<String> = []
    /// Required keys found missing, reported by `finish` unless a misspelt key explains them.
    private var missing: [(key: String, what: String?)] = []

    /// Nil (after reporting) when `node` is not a mapping.
    /// `entryNoun` names the entries in duplicate-key errors: "key", "task", "input", "branch".
    init?(_ node: YAMLNode, context: String, sink: DiagnosticSink, expecting: String = "a mapping",
          entryNoun: String = "key", owner: SourceLocation? = nil) {
        self.node = node
        self.context = context
        self.sink = sink
        self.ownerLocation = owner ?? node.location
        guard case .mapping(let pairs) = node.content else {
            sink.error("\(context): expected \(expecting), found \(node.kindDescription)", at: node.location)
            return nil
        }
        self.pairs = pairs
        var first: [String: SourceLocation] = [:]
        for pair in pairs {
            guard let name = pair.key.scalar else { continue }
            if let earlier = first[name] {
                sink.error("\(context): duplicate \(entryNoun) '\(name)' (first at line \(earlier.line))",
                           at: pair.key.location)
            } else {
                first[name] = pair.key.location
            }
        }
    }

    /// Keys in document order, with their nodes; a duplicated key (reported by `init`) only once.
    var keys: [(name: String, key: YAMLNode, value: YAMLNode)] {
        var seen = Set<String>()
        return pairs.compactMap { pair in
            let name = pair.key.scalar ?? ""
            return seen.insert(name).inserted ? (name, pair.key, pair.value) : nil
        }
    }

    func has(_ key: String) -> Bool { pairs.contains { $0.key.scalar == key } }

    /// Whether an unread key looks like a misspelling of `key` (`trian` for `train`).
    func hasNearMiss(of key: String) -> Bool {
        pairs.contains { pair in
            guard let name = pair.key.scalar, !read.contains(name) else { return false }
            return Suggestion.closest(to: name, among: [key]) != nil
        }
    }

    /// The key's node, marking it read.
    mutating func value(_ key: String) -> YAMLNode? {
        read.insert(key)
        return pairs.first { $0.key.scalar == key }?.value
    }

    /// The location of the key itself (where "unknown key" and "not allowed here" point).
    func keyLocation(_ key: String) -> SourceLocation? {
        pairs.first { $0.key.scalar == key }?.key.location
    }

    mutating func required(_ key: String, what: String? = nil) -> YAMLNode? {
        guard let value = value(key) else {
            missing.append((key, what))
            return nil
        }
        return value
    }

    /// Records `key` as a required key that is missing; `finish` reports it.
    mutating func markMissing(_ key: String) {
        read.insert(key)
        missing.append((key, nil))
    }

    /// Reports every key not read, with the closest allowed key as a hint. `elsewhere` names keys
    /// that are valid in a sibling kind of object, to explain why they are refused here.
    /// Keys starting with `ignoringPrefix` are allowed and ignored (`x-` keys hold YAML anchors).
    mutating func finish(elsewhere: [String: String] = [:], ignoringPrefix: String? = nil) {
        // Keys under the ignored prefix (`x-…`) are nobody's misspelling: they are never reported
        // as unknown, so they must not stand in for a missing required key either.
        let unknown = pairs.compactMap(\.key.scalar).filter { key in
            !read.contains(key) && !(ignoringPrefix.map { key.hasPrefix($0) } ?? false)
        }
        for (key, what) in missing {
            // `tpye: binary` is reported once, as an unknown key with "did you mean 'type'?".
            guard !unknown.contains(where: { Suggestion.closest(to: $0, among: [key]) != nil }) else { continue }
            sink.error("\(context): missing required key '\(key)'\(what.map { " (\($0))" } ?? "")", at: ownerLocation)
        }
        for pair in pairs {
            guard let name = pair.key.scalar, !read.contains(name) else { continue }
            if let prefix = ignoringPrefix, name.hasPrefix(prefix) { continue }
            if let reason = elsewhere[name] {
                sink.error("\(context): '\(name)' \(reason)", at: pair.key.location)
            } else {
                sink.error("\(context): unknown key '\(name)'", at: pair.key.location,
                           hint: Suggestion.hint(for: name, among: read.sorted()))
            }
        }
    }

    /// Marks keys as read without reading them (another pass handles them).
    mutating func skip(_ keys: String...) { keys.forEach { read.insert($0) } }
}

/// Typed views of scalar nodes; each reports its own error and returns nil on a mismatch.
extension YAMLNode {
    func string(_ what: String, _ sink: DiagnosticSink) -> String? {
        guard case .scalar(let text, _) = content, !isNull else {
            sink.error("\(what): expected a string, found \(kindDescription)", at: location)
            return nil
        }
        return text
    }

    /// A name usable in paths and `when:` expressions.
    func identifier(_ what: String, _ sink: DiagnosticSink) -> String? {
        guard let text = string(what, sink) else { return nil }
        guard Identifier.isValid(text) else {
            let reason = Identifier.keywords.contains(text) ? "'\(text)' is reserved for when: expressions"
                : "use ASCII letters, digits and '_', starting with a letter or '_'"
            sink.error("\(what): '\(text)' is not a valid name; \(reason)", at: location)
            return nil
        }
        return text
    }

    /// The flow's own name: it only names the folder its runs go to (`runs/<name>/…`) and
    /// never appears in a `when:`, so it may also hold '-' and '.', but not start with '.' or
    /// '-' (a hidden folder, an option) nor hold a path separator.
    func flowName(_ what: String, _ sink: DiagnosticSink) -> String? {
        guard let text = string(what, sink) else { return nil }
        let isNameCharacter = { (c: Unicode.Scalar) in
            c == "_" || c == "-" || c == "." || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
        }
        guard let first = text.unicodeScalars.first, first != ".", first != "-",
              text.unicodeScalars.allSatisfy(isNameCharacter) else {
            sink.error("\(what): '\(text)' is not a valid flow name; use ASCII letters, digits, '_', '-' and '.', "
                       + "starting with a letter, a digit or '_' (it names the folder of the flow's runs)", at: location)
            return nil
        }
        return text
    }

    func int(_ what: String, in range: ClosedRange<Int>, _ sink: DiagnosticSink) -> Int? {
        guard case .scalar(let text, true) = content, let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            let digits = scalar?.drop { $0 == "-" || $0 == "+" } ?? ""
            if isPlainScalar, !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) {
                sink.error("\(what): \(scalar!) is out of range; expected \(Self.describe(range))", at: location)
            } else {
                sink.error("\(what): expected an integer, found \(kindDescription)", at: location)
            }
            return nil
        }
        guard range.contains(value) else {
            sink.error("\(what): \(value) is out of range; expected \(Self.describe(range))", at: location)
            return nil
        }
        return value
    }

    /// A finite number within `range`; `exclusiveLower` makes the lower bound itself invalid.
    func double(_ what: String, in range: ClosedRange<Double>, exclusiveLower: Bool = false,
                exclusiveUpper: Bool = false, _ sink: DiagnosticSink) -> Double? {
        guard case .scalar(let text, true) = content, let value = Double(text), value.isFinite else {
            sink.error("\(what): expected a number, found \(kindDescription)", at: location)
            return nil
        }
        let lowOK = exclusiveLower ? value > range.lowerBound : value >= range.lowerBound
        let highOK = exclusiveUpper ? value < range.upperBound : value <= range.upperBound
        guard lowOK, highOK else {
            let low = exclusiveLower ? "greater than \(Self.format(range.lowerBound))"
                                     : "at least \(Self.format(range.lowerBound))"
            let high = range.upperBound == .greatestFiniteMagnitude ? ""
                : exclusiveUpper ? " and less than \(Self.format(range.upperBound))"
                : " and at most \(Self.format(range.upperBound))"
            sink.error("\(what): \(Self.format(value)) is out of range; expected a number \(low)\(high)",
                       at: location)
            return nil
        }
        return value
    }

    func bool(_ what: String, _ sink: DiagnosticSink) -> Bool? {
        if case .scalar(let text, true) = content {
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        sink.error("\(what): expected true or false, found \(kindDescription)", at: location)
        return nil
    }

    /// One of `choices`, with a did-you-mean for near misses.
    func choice(_ what: String, _ choices: [String], _ sink: DiagnosticSink) -> String? {
        guard let text = string(what, sink) else { return nil }
        guard choices.contains(text) else {
            sink.error("\(what): '\(text)' is not one of \(choices.joined(separator: ", "))", at: location,
                       hint: Suggestion.hint(for: text, among: choices))
            return nil
        }
        return text
    }

    /// The items of a list, or nil after reporting that this is not a list.
    func list(_ what: String, _ sink: DiagnosticSink) -> [YAMLNode]? {
        guard case .sequence(let items) = content else {
            sink.error("\(what): expected a list, found \(kindDescription)", at: location)
            return nil
        }
        return items
    }

    /// A list of strings, or one string taken as a list of one.
    func strings(_ what: String, _ sink: DiagnosticSink) -> [String]? {
        if case .scalar = content, !isNull { return string(what, sink).map { [$0] } }
        guard let items = list(what, sink) else { return nil }
        let strings = items.compactMap { $0.string(what, sink) }
        return strings.count == items.count ? strings : nil
    }

    var isPlainScalar: Bool {
        if case .scalar(_, true) = content { return true }
        return false
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "at least \(range.lowerBound)"
                                    : "\(range.lowerBound) to \(range.upperBound)"
    }

    static func format(_ value: Double) -> String { FlowNumber.text(value) }
}

/// Task, input and branch names: letters, digits and `_`, not starting with a digit, so that
/// they read unambiguously in dotted paths and `when:` expressions (docs/flow-format.md, "Names").
public enum Identifier {
    public static let keywords: Set<String> = ["and", "or", "not", "in"]

    public static func isValid(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !keywords.contains(text) else { return false }
        let isStart = { (c: Unicode.Scalar) in c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        return isStart(first) && text.unicodeScalars.allSatisfy { isStart($0) || ("0"..."9").contains($0) }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
