import CYAML
import FileFormats

/// Reads YAML text into `YAMLNode`s with libyaml's event API, keeping every node's line and column.
///
/// Supports anchors, aliases and `<<` merge keys. Refuses, with one located error each:
/// binary or non-UTF-8 content, syntax errors, several documents, tags other than the standard
/// ones, keys that are not scalars, nesting deeper than `maxDepth`, and more than `maxNodes`
/// nodes, as written or as aliases expand them.
public struct YAMLReader {
    /// Deepest nesting of lists and mappings accepted; flows are a few levels deep.
    public var maxDepth = 64
    /// Most nodes a document may have, aliases expanded; flows have a few hundred.
    public var maxNodes = 100_000

    public init() {}

    /// Parses `bytes` read from `file` (the name used in locations). Returns nil for a document
    /// with no content at all (an empty file, or one of comments only).
    public func read(_ bytes: [UInt8], file: String) throws(Problem) -> YAMLNode? {
        try checkIsText(bytes, file: file)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw Problem("cannot start the YAML parser (out of memory)", at: nil)
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { buffer throws(Problem) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder(file: file, maxDepth: maxDepth, maxNodes: maxNodes)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw syntaxError(parser, bytes: bytes, file: file)
                }
                defer { yaml_event_delete(&event) }
                if try builder.consume(&event) { break }
            }
            return builder.root
        }
    }

    /// One error for a file that is not text: a NUL byte or invalid UTF-8, located at its line.
    private func checkIsText(_ bytes: [UInt8], file: String) throws(Problem) {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw Problem("this file is UTF-16 text; save it as UTF-8", at: SourceLocation(file: file, line: 1, column: 1))
        }
        var line = 1, column = 1, index = 0
        func fail() -> Problem {
            Problem("this is not a text file (byte \(index) is not UTF-8 text); a flow is a YAML text file",
                    at: SourceLocation(file: file, line: line, column: column))
        }
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0: throw fail()
            case 0x01...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: throw fail()
            }
            guard index + length <= bytes.count,
                  bytes[(index + 1)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 })
            else { throw fail() }
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
            index += length
        }
    }

    private func syntaxError(_ parser: yaml_parser_t, bytes: [UInt8], file: String) -> Problem {
        let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
        if parser.error == YAML_READER_ERROR {
            // The reader reports a byte offset, not a mark: count lines up to it.
            let offset = min(Int(parser.problem_offset), bytes.count)
            var line = 1, column = 1
            for byte in bytes[..<offset] where byte & 0xC0 != 0x80 {
                if byte == 0x0A { (line, column) = (line + 1, 1) } else { column += 1 }
            }
            return Problem("YAML syntax error: \(problem)", at: SourceLocation(file: file, line: line, column: column))
        }
        let mark = parser.problem_mark
        var message = "YAML syntax error: \(problem)"
        if let context = parser.context {
            let contextMark = parser.context_mark
            message += " (\(String(cString: context)) at line \(contextMark.line + 1))"
        }
        return Problem(message, at: SourceLocation(file: file, line: Int(mark.line) + 1,
                                                   column: Int(mark.column) + 1))
    }
}

/// Turns the event stream into nodes: a stack of open collections, a table of anchors.
private struct Builder {
    enum Open {
        case sequence([YAMLNode], SourceLocation, anchor: String?)
        case mapping([YAMLNode], SourceLocation, anchor: String?)  // keys and values alternate
    }

    let file: String
    let maxDepth: Int
    let maxNodes: Int
    var stack: [Open] = []
    var anchors: [String: YAMLNode] = [:]
    var root: YAMLNode?
    var documents = 0
    /// Nodes written in the text so far (an alias counts once here, and in `size` as often as
    /// it is used): which of the two passed `maxNodes` decides what the error says.
    var written = 0

    init(file: String, maxDepth: Int, maxNodes: Int) {
        self.file = file
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// Handles one event; true at the end of the stream.
    mutating func consume(_ event: inout yaml_event_t) throws(Problem) -> Bool {
        let at = location(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw Problem("a flow file holds one YAML document; this is a second one", at: at,
                              hint: "remove the '---' or split the file")
            }
        case YAML_SCALAR_EVENT:
            written += 1
            let data = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length),
                              as: UTF8.self)
            var isPlain = data.style == YAML_PLAIN_SCALAR_STYLE
            if let tag = data.tag.map({ String(cString: $0) }) {
                switch tag {
                case "tag:yaml.org,2002:str": isPlain = false
                case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                     "tag:yaml.org,2002:null", "!": break
                default:
                    throw unsupported(tag, at: at, hint: "a value starting with '!' must be quoted; in when: write 'not'")
                }
            }
            let end = location(event.end_mark)
            let quotes = data.style == YAML_SINGLE_QUOTED_SCALAR_STYLE || data.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? 2 : 0
            let verbatim = end.line == at.line && end.column - at.column == text.count + quotes
                && (data.style == YAML_PLAIN_SCALAR_STYLE || quotes == 2)
            let node = YAMLNode(content: .scalar(text, isPlain: isPlain), location: at, size: 1, isVerbatim: verbatim)
            try add(node, anchor: data.anchor.map { String(cString: $0) })
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let node = anchors[name] else {
                throw Problem("alias '*\(name)' refers to no anchor defined before it", at: at,
                              hint: Suggestion.hint(for: name, among: anchors.keys))
            }
            try add(node, anchor: nil)
        case YAML_SEQUENCE_START_EVENT:
            written += 1
            let start = event.data.sequence_start
            try checkCollectionTag(start.tag, standard: "tag:yaml.org,2002:seq", at: at)
            try push(.sequence([], at, anchor: start.anchor.map { String(cString: $0) }), at: at)
        case YAML_MAPPING_START_EVENT:
            written += 1
            let start = event.data.mapping_start
            try checkCollectionTag(start.tag, standard: "tag:yaml.org,2002:map", at: at)
            try push(.mapping([], at, anchor: start.anchor.map { String(cString: $0) }), at: at)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let open = stack.popLast() else { break }
            switch open {
            case let .sequence(items, start, anchor):
                let node = YAMLNode(content: .sequence(items), location: start,
                                    size: 1 + items.reduce(0) { $0 + $1.size },
                                    depth: 1 + (items.map(\.depth).max() ?? 0))
                try add(node, anchor: anchor)
            case let .mapping(items, start, anchor):
                try add(try mapping(items, at: start), anchor: anchor)
            }
        default:
            break
        }
        return false
    }

    /// A list or mapping may carry only its own standard tag (`!!seq`, `!!map`) or `!`: any
    /// other (`!!set`, `!!python/object:…`) asks for a type a flow has no use for.
    func checkCollectionTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, standard: String,
                            at: SourceLocation) throws(Problem) {
        guard let tag = tag.map({ String(cString: $0) }), tag != standard, tag != "!" else { return }
        throw unsupported(tag, at: at, hint: nil)
    }

    /// The error for a tag a flow file does not accept, written as the user wrote it (`!!set`).
    func unsupported(_ tag: String, at: SourceLocation, hint: String?) -> Problem {
        let core = "tag:yaml.org,2002:"
        let shown = tag.hasPrefix(core) ? "!!" + tag.dropFirst(core.count) : tag
        return Problem("YAML tag '\(shown)' is not supported in a flow file", at: at, hint: hint)
    }

    mutating func push(_ open: Open, at: SourceLocation) throws(Problem) {
        if stack.count >= maxDepth {
            throw Problem("lists and mappings are nested more than \(maxDepth) levels deep", at: at)
        }
        stack.append(open)
    }

    mutating func add(_ node: YAMLNode, anchor: String?) throws(Problem) {
        if node.size > maxNodes {
            guard written > maxNodes else {
                throw Problem("this document has more than \(SymbolicCount.grouped(maxNodes)) nodes, counting each "
                              + "alias as often as it is used (an alias bomb?)", at: node.location)
            }
            throw Problem("this flow has more than \(SymbolicCount.grouped(maxNodes)) YAML nodes (keys, values, "
                          + "lists and mappings), the most a flow file may have", at: node.location,
                          hint: "a task written 't: {type: binary}' is 4 nodes, so about "
                              + "\(SymbolicCount.grouped(maxNodes / 4)) such tasks fit")
        }
        // Aliases can nest a node deeper than the text does; every later pass recurses on depth.
        if stack.count + node.depth > maxDepth + 1 {
            throw Problem("lists and mappings are nested more than \(maxDepth) levels deep "
                          + "(counting what aliases repeat)", at: node.location)
        }
        if let anchor { anchors[anchor] = node }
        switch stack.popLast() {
        case nil:
            root = node
        case .sequence(var items, let start, let anchor)?:
            items.append(node)
            stack.append(.sequence(items, start, anchor: anchor))
        case .mapping(var items, let start, let anchor)?:
            items.append(node)
            stack.append(.mapping(items, start, anchor: anchor))
        }
    }

    /// Pairs up keys and values, applies `<<` merge keys, and rejects non-scalar keys.
    func mapping(_ items: [YAMLNode], at start: SourceLocation) throws(Problem) -> YAMLNode {
        var own: [YAMLNode.Pair] = []
        var merged: [YAMLNode.Pair] = []
        var ownNames = Set<String>()
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            let key = items[index], value = items[index + 1]
            guard let name = key.scalar else {
                throw Problem("a mapping key must be a plain name, not \(key.kindDescription)",
                              at: key.location)
            }
            if name == "<<", case .scalar(_, true) = key.content {
                merged += try mergeSources(value)
                continue
            }
            // Duplicates stay: the reader of this mapping knows what they are (tasks, inputs…)
            // and reports them in its own words.
            ownNames.insert(name)
            own.append(YAMLNode.Pair(key: key, value: value))
        }
        // Explicit keys win over merged ones; among merged mappings the first listed wins.
        var pairs = own
        var seen = ownNames
        for pair in merged {
            if let name = pair.key.scalar, seen.insert(name).inserted { pairs.append(pair) }
        }
        let size = 1 + pairs.reduce(0) { $0 + $1.key.size + $1.value.size }
        return YAMLNode(content: .mapping(pairs), location: start, size: size,
                        depth: 1 + (pairs.map(\.value.depth).max() ?? 0))
    }

    func mergeSources(_ value: YAMLNode) throws(Problem) -> [YAMLNode.Pair] {
        switch value.content {
        case .mapping(let pairs):
            return pairs
        case .sequence(let items):
            var pairs: [YAMLNode.Pair] = []
            for item in items {
                guard case .mapping(let more) = item.content else {
                    throw Problem("'<<' merges mappings; this is \(item.kindDescription)", at: item.location)
                }
                pairs += more
            }
            return pairs
        case .scalar:
            throw Problem("'<<' merges a mapping or a list of mappings, not \(value.kindDescription)",
                          at: value.location)
        }
    }
}
