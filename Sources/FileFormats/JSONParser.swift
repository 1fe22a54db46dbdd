/// A strict JSON parser (RFC 8259) for safetensors headers. Beyond the grammar it refuses
/// duplicate object keys, whose meaning JSON leaves open, and nesting deeper than `maxDepth`,
/// so that a hostile header cannot exhaust the stack. Its problems are the header's, located
/// at a byte of it.
struct JSONParser {
    let bytes: [UInt8]
    /// The safetensors file the header is read from, for the problems found.
    let file: String
    var position = 0
    var depth = 0
    /// A valid header nests three levels (header, tensor, shape); 64 leaves room for anything
    /// another writer might put in its metadata.
    static let maxDepth = 64

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// One value, then only whitespace (writers pad the header with spaces) to the end.
    mutating func parseDocument() throws(Problem) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected text after the value") }
        return value
    }

    /// A problem of the header of the safetensors file `file`, at byte `offset` of the header
    /// (by default, where the parser is).
    func failure(_ message: String, at offset: Int? = nil) -> Problem {
        Problem(file: file, message: "the header is not valid JSON: \(message) at byte \(offset ?? position) of the header")
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Consumes `byte` after optional whitespace if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func parseValue() throws(Problem) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of the header") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected \(Self.describe(bytes[position]))")
        }
    }

    mutating func enter() throws(Problem) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        position += 1
    }

    mutating func parseObject() throws(Problem) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var members: [(String, JSONValue)] = []
        var keys = Set<String>()
        if consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let keyOffset = position
            let key = try parseString()
            guard keys.insert(key).inserted else {
                throw failure("duplicate key '\(key)'", at: keyOffset)
            }
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':'") }
            members.append((key, try parseValue()))
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { throw failure("expected ',' or '}'") }
        return .object(members)
    }

    mutating func parseArray() throws(Problem) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        if consume(UInt8(ascii: "]")) { return .array(items) }
        repeat {
            items.append(try parseValue())
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "]")) else { throw failure("expected ',' or ']'") }
        return .array(items)
    }

    mutating func parseLiteral(_ word: String) throws(Problem) {
        guard parseLiteralIfPresent(word) else { throw failure("expected '\(word)'") }
    }

    /// A byte for an error message: itself when printable ASCII, else its hex value.
    static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "character '\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, returned as its text.
    mutating func parseNumber() throws(Problem) -> String {
        let start = position
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        func digits() throws(Problem) {
            guard isDigit(position) else { throw failure("expected a digit") }
            while isDigit(position) { position += 1 }
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            try digits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            try digits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            try digits()
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// A string starting at the opening quote; escapes decoded, UTF-8 validated.
    mutating func parseString() throws(Problem) -> String {
        position += 1
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: text, as: UTF8.self) else {
                    throw failure("a string that is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                try parseEscape(into: &text)
            case 0..<0x20:
                position -= 1
                throw failure("a control character inside a string")
            default:
                text.append(byte)
            }
        }
    }

    /// The escape after a backslash, appended to `text` as UTF-8.
    mutating func parseEscape(into text: inout [UInt8]) throws(Problem) {
        guard position < bytes.count else { throw failure("unterminated string") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            // Characters outside the basic plane come as a UTF-16 surrogate pair: \uD83D\uDE00.
            if (0xD800..<0xDC00).contains(code) {
                guard parseLiteralIfPresent("\\u") else { throw failure("a high surrogate without its low half") }
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("a high surrogate without its low half") }
                code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw failure("a lone low surrogate") }
            text.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            position -= 1
            throw failure("an invalid escape: backslash then \(Self.describe(byte))")
        }
    }

    mutating func parseLiteralIfPresent(_ word: String) -> Bool {
        let text = Array(word.utf8)
        guard bytes.count - position >= text.count, Array(bytes[position..<position + text.count]) == text else { return false }
        position += text.count
        return true
    }

    mutating func parseHex4() throws(Problem) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("expected four hex digits after '\\u'") }
        var code: UInt32 = 0
        for byte in bytes[position..<position + 4] {
            // Hex digits one by one: UInt32(_:radix:) would also take a sign.
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                throw failure("expected four hex digits after '\\u'")
            }
            code = code << 4 | UInt32(digit)
        }
        position += 4
        return code
    }
}
