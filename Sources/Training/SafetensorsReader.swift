import Foundation

/// A problem reading or writing a safetensors file: which file, what kind of problem (for code
/// that reacts to it) and a message saying what is wrong (for people).
public struct SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, as a category; the message has the details.
    public enum Kind: Equatable, Sendable {
        /// The file could not be opened or read; the message gives the system's reason.
        case unreadable
        /// The file, its temporary file or its directory could not be written.
        case unwritable
        /// The file has no bytes at all.
        case empty
        /// The file ends before what it promises: fewer than the 8 bytes of the header length,
        /// or a data section shorter than its tensors.
        case truncated
        /// The header length is larger than any real header or runs past the end of the file.
        case headerLength
        /// The header is not UTF-8 JSON of the form the format defines.
        case header
        /// A tensor's dtype is not F32, the only one flowtrain stores.
        case unsupportedDType
        /// Data offsets are reversed or overlap, or leave bytes of the data section unused.
        case offsets
        /// A tensor's byte range does not hold exactly its shape's elements × 4 bytes.
        case byteCount
        /// A tensor given to the writer has a reserved or repeated name, or a shape that does
        /// not match its values.
        case invalidTensor
    }

    public var file: String
    public var kind: Kind
    public var message: String

    public var description: String { "\(file): \(message)" }

    init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    /// An error for a failed system call, with the reason `errno` gives; call it before anything
    /// else can overwrite `errno`.
    static func system(_ kind: Kind, file: String, _ what: String) -> SafetensorsError {
        SafetensorsError(kind, file: file, "\(what): \(String(cString: strerror(errno)))")
    }
}

/// A float32 tensor read from a safetensors file: its shape (row-major, outermost first) and
/// its values.
public struct SafetensorsTensor: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// The contents of a safetensors file.
public struct SafetensorsFile: Sendable {
    /// The tensors by name.
    public var tensors: [String: SafetensorsTensor]
    /// The `__metadata__` strings; empty when the file has none.
    public var metadata: [String: String]
}

/// Reads safetensors files (github.com/huggingface/safetensors) holding float32 tensors.
///
/// The file is treated as hostile: every number in the header is checked against the file
/// before it is used, so a corrupt or truncated file gives a `SafetensorsError`, never a crash
/// or a read out of bounds. The checks are the reference implementation's: the header length
/// within the file, the header JSON, each tensor's dtype and byte count, and offsets that tile
/// the data section exactly, without overlaps or gaps.
public enum SafetensorsReader {
    /// The largest header accepted. Real headers are a few megabytes at most; the reference
    /// implementation uses the same limit, so a wild length fails before any allocation.
    static let maxHeaderLength: UInt64 = 100_000_000

    /// A tensor's entry in the header, with offsets relative to the start of the data section.
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads every tensor and the metadata of the file at `path`.
    public static func read(path: String) throws(SafetensorsError) -> SafetensorsFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(.unreadable, file: path, "cannot open the file") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .system(.unreadable, file: path, "cannot read the file's size") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SafetensorsError(.unreadable, file: path, "the path is not a regular file")
        }
        let size = Int(status.st_size)

        guard size > 0 else {
            throw SafetensorsError(.empty, file: path, "the file is empty; a safetensors file starts with an 8-byte header length")
        }
        guard size >= 8 else {
            throw SafetensorsError(.truncated, file: path,
                                   "the file has \(size) bytes, fewer than the 8 of the header length")
        }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try readFully(fd, into: &lengthBytes, at: 0, file: path)
        let headerLength = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= maxHeaderLength else {
            throw SafetensorsError(.headerLength, file: path,
                                   "the header length \(headerLength) is over the limit of \(maxHeaderLength) bytes")
        }
        guard headerLength <= UInt64(size - 8) else {
            throw SafetensorsError(.headerLength, file: path,
                                   "the header length \(headerLength) runs past the end of the file (\(size) bytes)")
        }
        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        try readFully(fd, into: &headerBytes, at: 8, file: path)

        let (entries, metadata) = try parseHeader(headerBytes, file: path)
        let dataStart = 8 + Int(headerLength)
        try validate(entries, dataSize: size - dataStart, file: path)

        var tensors: [String: SafetensorsTensor] = [:]
        for entry in entries {
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            try readFully(fd, into: &values, at: dataStart + entry.begin, file: path)
            // The file is little-endian; on a little-endian host this is the identity.
            for i in values.indices {
                values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern))
            }
            tensors[entry.name] = SafetensorsTensor(shape: entry.shape, values: values)
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata)
    }

    /// Fills `buffer` from the file at byte `offset`. A short read means the file shrank after
    /// its size was taken, which is a truncated file.
    static func readFully<T>(_ fd: Int32, into buffer: inout [T], at offset: Int, file: String) throws(SafetensorsError) {
        try buffer.withUnsafeMutableBufferPointer { (items) throws(SafetensorsError) in
            let bytes = UnsafeMutableRawBufferPointer(items)
            guard let base = bytes.baseAddress else { return }  // nothing to read
            var done = 0
            while done < bytes.count {
                let n = pread(fd, base + done, bytes.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw .system(.unreadable, file: file, "cannot read the file") }
                if n == 0 {
                    throw SafetensorsError(.truncated, file: file,
                                           "the file ended at byte \(offset + done) while \(offset + bytes.count) were expected")
                }
                done += n
            }
        }
    }

    /// The tensor entries (sorted by name, so that the first problem reported does not depend on
    /// the header's key order) and the metadata of a header.
    static func parseHeader(_ bytes: [UInt8], file: String) throws(SafetensorsError) -> ([Entry], [String: String]) {
        let root: JSONValue
        do throws(JSONSyntaxError) {
            var parser = JSONParser(bytes: bytes)
            root = try parser.parseDocument()
        } catch {
            throw SafetensorsError(.header, file: file,
                                   "the header is not valid JSON: \(error.message) at byte \(error.offset) of the header")
        }
        guard case .object(let members) = root else {
            throw SafetensorsError(.header, file: file, "the header is not a JSON object")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                entries.append(try parseEntry(name: key, value, file: file))
            }
        }
        return (entries.sorted { $0.name < $1.name }, metadata)
    }

    static func parseMetadata(_ value: JSONValue, file: String) throws(SafetensorsError) -> [String: String] {
        let problem = SafetensorsError(.header, file: file, "the header's '__metadata__' must map strings to strings")
        guard case .object(let members) = value else { throw problem }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else { throw problem }
            metadata[key] = text
        }
        return metadata
    }

    static func parseEntry(name: String, _ value: JSONValue, file: String) throws(SafetensorsError) -> Entry {
        func problem(_ text: String) -> SafetensorsError {
            SafetensorsError(.header, file: file, "tensor '\(name)' in the header \(text)")
        }
        guard case .object(let members) = value else { throw problem("is not a JSON object") }
        // Other fields are ignored, as the reference implementation does.
        let fields = Dictionary(members, uniquingKeysWith: { first, _ in first })
        guard case .string(let dtype)? = fields["dtype"] else { throw problem("has no string 'dtype'") }
        guard let shape = fields["shape"].flatMap(naturals) else {
            throw problem("has no 'shape' that is an array of non-negative integers")
        }
        guard let offsets = fields["data_offsets"].flatMap(naturals), offsets.count == 2 else {
            throw problem("has no 'data_offsets' that is a pair of non-negative integers")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// The value as an array of integers ≥ 0 that fit in an Int, or nil.
    static func naturals(_ value: JSONValue) -> [Int]? {
        guard case .array(let items) = value else { return nil }
        var numbers: [Int] = []
        for item in items {
            guard case .number(let text) = item, let n = Int(text), n >= 0 else { return nil }
            numbers.append(n)
        }
        return numbers
    }

    /// Checks each tensor on its own (dtype, byte count), then that their byte ranges, in offset
    /// order, tile the data section from its first byte to its last.
    static func validate(_ entries: [Entry], dataSize: Int, file: String) throws(SafetensorsError) {
        for entry in entries {
            guard entry.dtype == "F32" else {
                throw SafetensorsError(.unsupportedDType, file: file,
                                       "tensor '\(entry.name)' has dtype \(entry.dtype); only F32 is supported")
            }
            guard entry.begin <= entry.end else {
                throw SafetensorsError(.offsets, file: file,
                                       "tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] that end before they begin")
            }
            guard let expected = byteCount(of: entry.shape) else {
                throw SafetensorsError(.byteCount, file: file,
                                       "tensor '\(entry.name)' has shape \(entry.shape), more elements than can be addressed")
            }
            guard expected == entry.end - entry.begin else {
                throw SafetensorsError(.byteCount, file: file,
                                       "tensor '\(entry.name)' has shape \(entry.shape), \(expected) bytes as F32, but its data_offsets [\(entry.begin), \(entry.end)] span \(entry.end - entry.begin) bytes")
            }
        }
        var expectedBegin = 0
        var previous: Entry?
        for entry in entries.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
            if entry.begin < expectedBegin, let previous {
                throw SafetensorsError(.offsets, file: file,
                                       "tensor '\(entry.name)' (bytes \(entry.begin)..<\(entry.end)) overlaps tensor '\(previous.name)' (bytes \(previous.begin)..<\(previous.end))")
            }
            if entry.begin > expectedBegin {
                throw SafetensorsError(.offsets, file: file,
                                       "bytes \(expectedBegin)..<\(entry.begin) of the data section belong to no tensor")
            }
            expectedBegin = entry.end
            previous = entry
        }
        if expectedBegin > dataSize {
            throw SafetensorsError(.truncated, file: file,
                                   "the tensors need \(expectedBegin) bytes of data but the file holds \(dataSize); it is truncated")
        }
        if expectedBegin < dataSize {
            throw SafetensorsError(.offsets, file: file,
                                   "the data section has \(dataSize) bytes but the tensors cover only \(expectedBegin)")
        }
    }

    /// 4 × the product of the dimensions, or nil when that overflows.
    static func byteCount(of shape: [Int]) -> Int? {
        var count = 4
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}

/// A JSON value as the header parser reads it. Numbers keep their text: the header's numbers
/// are dimensions and byte offsets, which must be read as exact integers, never through a
/// Double. Object members keep their order.
enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null
}

/// What is wrong with a JSON text and where (a byte offset into it).
struct JSONSyntaxError: Error {
    var message: String
    var offset: Int
}

/// A strict JSON parser (RFC 8259) for safetensors headers. Beyond the grammar it refuses
/// duplicate object keys, whose meaning JSON leaves open, and nesting deeper than `maxDepth`,
/// so that a hostile header cannot exhaust the stack.
struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    var depth = 0
    /// A valid header nests three levels (header, tensor, shape); 64 leaves room for anything
    /// another writer might put in its metadata.
    static let maxDepth = 64

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// One value, then only whitespace (writers pad the header with spaces) to the end.
    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected text after the value") }
        return value
    }

    func failure(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: position)
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

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
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

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth) levels") }
        position += 1
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
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
                throw JSONSyntaxError(message: "duplicate key '\(key)'", offset: keyOffset)
            }
            guard consume(UInt8(ascii: ":")) else { throw failure("expected ':'") }
            members.append((key, try parseValue()))
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { throw failure("expected ',' or '}'") }
        return .object(members)
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
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

    mutating func parseLiteral(_ word: String) throws(JSONSyntaxError) {
        guard parseLiteralIfPresent(word) else { throw failure("expected '\(word)'") }
    }

    /// A byte for an error message: itself when printable ASCII, else its hex value.
    static func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "character '\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, returned as its text.
    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = position
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        func digits() throws(JSONSyntaxError) {
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
    mutating func parseString() throws(JSONSyntaxError) -> String {
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
    mutating func parseEscape(into text: inout [UInt8]) throws(JSONSyntaxError) {
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

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
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
