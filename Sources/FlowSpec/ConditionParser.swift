import FileFormats

/// Parses `when:` expressions. The grammar (docs/flow-format.md):
///
///     condition := or
///     or        := and ("or" and)*
///     and       := unary ("and" unary)*
///     unary     := "not" unary | atom
///     atom      := "(" condition ")" | path [ ("==" | "!=") class | ["not"] "in" "[" class ("," class)* "]" ]
///     path      := name ("." name)*
///     class     := word | 'quoted' | "quoted"
///
/// `a != c` is `not (a == c)` and `a not in [..]` is `not (a in [..])`. Every token keeps its
/// column, so errors point inside the expression. A condition is short by nature; the limits
/// below keep a pathological one from exhausting the stack.
struct ConditionParser {
    static let maxLength = 2_000
    static let maxDepth = 32
    static let maxTerms = 100

    private let tokens: [Token]
    private var index = 0
    private let origin: SourceLocation
    private let endColumn: Int
    private var depth = 0
    private var terms = 0

    /// Parses `text` written at `origin` (the first character's location). When the text is not
    /// written verbatim on one line (folded, escaped), columns cannot be known and every
    /// location is `origin`.
    static func parse(_ text: String, at origin: SourceLocation, exactColumns: Bool = true)
        throws(Problem) -> Condition<Located<String>> {
        guard text.count <= maxLength else {
            throw Problem("when: the condition is \(text.count) characters long; at most \(maxLength) are allowed",
                          at: origin)
        }
        var tokens = try lex(text, at: origin, exactColumns: exactColumns)
        if !exactColumns { tokens = tokens.map { var t = $0; t.location = origin; return t } }
        var parser = ConditionParser(tokens: tokens, origin: origin,
                                     endColumn: origin.column + (exactColumns ? text.count : 0))
        guard !parser.tokens.isEmpty else {
            throw Problem("when: the condition is empty", at: origin)
        }
        let condition = try parser.parseOr()
        if let extra = parser.peek {
            throw Problem("when: unexpected '\(extra.text)' after a complete condition", at: extra.location,
                          hint: "join conditions with 'and' or 'or'")
        }
        return condition
    }

    private init(tokens: [Token], origin: SourceLocation, endColumn: Int) {
        self.tokens = tokens
        self.origin = origin
        self.endColumn = endColumn
    }

    // MARK: Tokens

    private struct Token {
        enum Kind: Equatable { case word, quoted, symbol }
        var kind: Kind
        var text: String
        var location: SourceLocation
        func isWord(_ w: String) -> Bool { kind == .word && text == w }
        func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }
    }

    private static func lex(_ text: String, at origin: SourceLocation, exactColumns: Bool) throws(Problem) -> [Token] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }
        while i < chars.count {
            let c = chars[i]
            let at = exactColumns ? origin.advanced(by: i) : origin
            if c.isWhitespace { i += 1; continue }
            if isWordChar(c) {
                let start = i
                while i < chars.count, isWordChar(chars[i]) { i += 1 }
                tokens.append(Token(kind: .word, text: String(chars[start..<i]), location: at))
            } else if c == "'" || c == "\"" {
                let start = i + 1
                i += 1
                while i < chars.count, chars[i] != c { i += 1 }
                guard i < chars.count else {
                    throw Problem("when: unterminated quoted class name", at: at)
                }
                tokens.append(Token(kind: .quoted, text: String(chars[start..<i]), location: at))
                i += 1
            } else if (c == "=" || c == "!"), i + 1 < chars.count, chars[i + 1] == "=" {
                tokens.append(Token(kind: .symbol, text: String(c) + "=", location: at))
                i += 2
            } else if "()[],.".contains(c) {
                tokens.append(Token(kind: .symbol, text: String(c), location: at))
                i += 1
            } else {
                let hint: String? = switch c {
                case "!": "write 'not'"
                case "&": "write 'and'"
                case "|": "write 'or'"
                case "=": "compare with '=='"
                default: nil
                }
                throw Problem("when: unexpected character '\(c)'", at: at, hint: hint)
            }
        }
        return tokens
    }

    // MARK: Grammar

    private var peek: Token? { index < tokens.count ? tokens[index] : nil }

    private var endLocation: SourceLocation {
        SourceLocation(file: origin.file, line: origin.line, column: endColumn)
    }

    private func expected(_ what: String) -> Problem {
        if let token = peek {
            return Problem("when: expected \(what), found '\(token.text)'", at: token.location)
        }
        return Problem("when: expected \(what) at the end of the condition", at: endLocation)
    }

    private mutating func parseOr() throws(Problem) -> Condition<Located<String>> {
        var left = try parseAnd()
        while peek?.isWord("or") == true {
            index += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(Problem) -> Condition<Located<String>> {
        var left = try parseUnary()
        while peek?.isWord("and") == true {
            index += 1
            left = .and(left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws(Problem) -> Condition<Located<String>> {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth, let token = peek {
            throw Problem("when: the condition nests 'not' and parentheses more than \(Self.maxDepth) deep",
                          at: token.location)
        }
        if peek?.isWord("not") == true {
            index += 1
            return .not(try parseUnary())
        }
        return try parseAtom()
    }

    private mutating func parseAtom() throws(Problem) -> Condition<Located<String>> {
        if let open = peek, open.isSymbol("(") {
            index += 1
            let inner = try parseOr()
            guard peek?.isSymbol(")") == true else {
                if peek == nil {
                    throw Problem("when: '(' is never closed", at: open.location)
                }
                throw expected("')'")
            }
            index += 1
            return inner
        }
        let path = try parsePath()
        terms += 1
        if terms > Self.maxTerms {
            throw Problem("when: the condition has more than \(Self.maxTerms) terms", at: path.location)
        }
        guard let token = peek else { return .isTrue(path) }
        if token.isSymbol("==") || token.isSymbol("!=") {
            index += 1
            let value = try parseClass()
            return token.text == "==" ? .equals(path, value) : .not(.equals(path, value))
        }
        if token.isWord("in") {
            index += 1
            return .isIn(path, try parseClassList())
        }
        if token.isWord("not"), index + 1 < tokens.count, tokens[index + 1].isWord("in") {
            index += 2
            return .not(.isIn(path, try parseClassList()))
        }
        return .isTrue(path)
    }

    private mutating func parsePath() throws(Problem) -> Located<String> {
        guard let first = peek, first.kind == .word, !Identifier.keywords.contains(first.text) else {
            throw expected("a task name")
        }
        guard Identifier.isValid(first.text) else {
            throw Problem("when: '\(first.text)' is not a task name", at: first.location)
        }
        index += 1
        var names = [first.text]
        while peek?.isSymbol(".") == true {
            index += 1
            guard let part = peek, part.kind == .word, Identifier.isValid(part.text) else {
                throw expected("a task name after '.'")
            }
            index += 1
            names.append(part.text)
        }
        return Located(value: names.joined(separator: "."), location: first.location)
    }

    private mutating func parseClass() throws(Problem) -> Located<String> {
        guard let token = peek, token.kind != .symbol, !(token.kind == .word && Identifier.keywords.contains(token.text)) else {
            throw expected("a class name")
        }
        index += 1
        return Located(value: token.text, location: token.location)
    }

    private mutating func parseClassList() throws(Problem) -> [Located<String>] {
        guard let open = peek, open.isSymbol("[") else { throw expected("'[' to start a list of classes") }
        index += 1
        var classes = [try parseClass()]
        while peek?.isSymbol(",") == true {
            index += 1
            classes.append(try parseClass())
        }
        guard peek?.isSymbol("]") == true else {
            if peek == nil { throw Problem("when: '[' is never closed", at: open.location) }
            throw expected("',' or ']'")
        }
        index += 1
        return classes
    }
}
