import Foundation

/// A CSV file per RFC 4180, read as bytes: quoted fields with embedded commas, newlines and
/// doubled quotes, a UTF-8 byte-order mark, CRLF or LF line ends, blank lines skipped. Fields
/// are kept as byte ranges into the file and decoded only when asked for, so that a large file
/// loads at the speed of one pass over its bytes.
public struct CSVTable: Sendable {
    public let file: String
    public let header: [String]
    public var rowCount: Int { fields.count / max(header.count, 1) }

    private let bytes: [UInt8]
    /// Per field, row-major: where it starts, its length, whether it holds doubled quotes.
    private let fields: [Field]
    /// The 1-based line each data row starts on, for error locations.
    private let lines: [Int32]

    struct Field: Sendable {
        var start: UInt32
        var length: UInt32
        var hasEscapedQuotes: Bool
    }

    /// Reads and splits `path`; throws the first problem with its line and field number.
    public static func read(path: String) throws(CSVError) -> CSVTable {
        guard let bytes = readFile(path) else {
            throw CSVError(file: path, line: nil, field: nil,
                           message: FileManager.default.fileExists(atPath: path) ? "the file cannot be read" : "no such file")
        }
        return try parse(bytes, file: path)
    }

    /// The file's bytes, read straight into the array that keeps them (no intermediate copy).
    private static func readFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(status.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = Foundation.read(descriptor, buffer.baseAddress! + done, size - done)
                if n <= 0 {
                    failed = n < 0
                    break
                }
                done += n
            }
            count = done
        }
        return failed ? nil : bytes
    }

    /// Splits CSV text already in memory; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(CSVError) -> CSVTable {
        guard bytes.count < Int(UInt32.max) else {
            throw CSVError(file: file, line: nil, field: nil, message: "the file is larger than 4 GiB; split it")
        }
        return try bytes.withUnsafeBufferPointer { buffer throws(CSVError) -> CSVTable in
            var splitter = Splitter(bytes: buffer, file: file)
            var record: [Field] = []
            guard let _ = try splitter.nextRecord(into: &record) else {
                throw CSVError(file: file, line: nil, field: nil, message: "the file is empty; a header row is required")
            }
            let header = record.map { splitter.text(of: $0) }
            // Which of two same-named columns a flow meant cannot be known.
            var firstField: [String: Int] = [:]
            for (index, name) in header.enumerated() {
                if let first = firstField[name] {
                    throw CSVError(file: file, line: 1, field: index + 1,
                                   message: "column '\(name)' appears twice in the header (fields \(first + 1) and \(index + 1))")
                }
                firstField[name] = index
            }
            var fields: [Field] = []
            var lines: [Int32] = []
            fields.reserveCapacity(header.count * max(16, bytes.count / max(header.count * 8, 1)))
            while let line = try splitter.nextRecord(into: &record) {
                guard record.count == header.count else {
                    throw CSVError(file: file, line: line, field: min(record.count, header.count + 1),
                                   message: "the row has \(record.count) field\(record.count == 1 ? "" : "s"), the header \(header.count)")
                }
                fields.append(contentsOf: record)
                lines.append(Int32(truncatingIfNeeded: line))
            }
            return CSVTable(file: file, header: header, bytes: bytes, fields: fields, lines: lines)
        }
    }

    private init(file: String, header: [String], bytes: [UInt8], fields: [Field], lines: [Int32]) {
        self.file = file
        self.header = header
        self.bytes = bytes
        self.fields = fields
        self.lines = lines
    }

    /// The index of the column named `name`, if the header has it.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The line in the file where data row `row` (0-based) starts.
    public func line(ofRow row: Int) -> Int { Int(lines[row]) }

    /// The field as text (quotes removed, doubled quotes undone).
    public func string(row: Int, column: Int) -> String {
        let field = fields[row * header.count + column]
        return bytes.withUnsafeBufferPointer { buffer in
            let raw = UnsafeBufferPointer(rebasing: buffer[Int(field.start)..<Int(field.start + field.length)])
            let text = String(decoding: raw, as: UTF8.self)
            return field.hasEscapedQuotes ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
        }
    }

    /// Whether the field is exactly `text` (compared as bytes, no String made).
    public func field(row: Int, column: Int, equals text: [UInt8]) -> Bool {
        let field = fields[row * header.count + column]
        guard Int(field.length) == text.count, !field.hasEscapedQuotes else {
            return field.hasEscapedQuotes && Array(string(row: row, column: column).utf8) == text
        }
        return bytes.withUnsafeBufferPointer { buffer in
            text.withUnsafeBufferPointer { other in
                memcmp(buffer.baseAddress! + Int(field.start), other.baseAddress!, text.count) == 0
            }
        }
    }

    /// The field as a decimal number, parsed straight from its bytes; nil when it is not one
    /// (empty, text, `NaN`, `inf` and other non-finite spellings included).
    public func number(row: Int, column: Int) -> Double? {
        let field = fields[row * header.count + column]
        return bytes.withUnsafeBufferPointer { buffer in
            DecimalParser.parse(UnsafeBufferPointer(rebasing: buffer[Int(field.start)..<Int(field.start + field.length)]))
        }
    }

    /// Splits records one at a time, over the file's bytes without bounds checks in the loops.
    private struct Splitter {
        let bytes: UnsafeBufferPointer<UInt8>
        let file: String
        var position = 0
        /// The line `position` is on (1-based).
        var line = 1

        init(bytes: UnsafeBufferPointer<UInt8>, file: String) {
            self.bytes = bytes
            self.file = file
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }  // UTF-8 BOM
        }

        func text(of field: Field) -> String {
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(field.start)..<Int(field.start + field.length)]),
                              as: UTF8.self)
            return field.hasEscapedQuotes ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
        }

        /// Fills `record` with the next non-blank record's fields and returns the line it starts
        /// on, or nil at the end of the file.
        mutating func nextRecord(into record: inout [Field]) throws(CSVError) -> Int? {
            let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, newline: UInt8 = 0x0A, carriage: UInt8 = 0x0D
            let base = bytes.baseAddress!, end = bytes.count
            record.removeAll(keepingCapacity: true)
            // Blank lines (and a trailing line end) hold no record.
            while position < end, base[position] == newline || base[position] == carriage {
                if base[position] == newline { line += 1 }
                position += 1
            }
            guard position < end else { return nil }
            let startLine = line
            while true {
                var field = Field(start: UInt32(position), length: 0, hasEscapedQuotes: false)
                if position < end, base[position] == quote {
                    position += 1
                    field.start = UInt32(position)
                    while true {
                        guard position < end else {
                            throw CSVError(file: file, line: startLine, field: record.count + 1,
                                           message: "the row has a quoted field that is never closed")
                        }
                        let byte = base[position]
                        if byte == quote {
                            if position + 1 < end, base[position + 1] == quote {
                                field.hasEscapedQuotes = true
                                position += 2
                                continue
                            }
                            break
                        }
                        if byte == newline { line += 1 }
                        position += 1
                    }
                    field.length = UInt32(position) - field.start
                    position += 1  // the closing quote
                    if position < end, base[position] != comma, base[position] != newline, base[position] != carriage {
                        throw CSVError(file: file, line: line, field: record.count + 1,
                                       message: "the row has text after a closing quote; a quote inside a quoted field is written twice")
                    }
                } else {
                    // The hot loop of a large numeric file: stop at a comma or a line end.
                    var p = position
                    while p < end {
                        let byte = base[p]
                        if byte == comma || byte == newline { break }
                        if byte == carriage, p + 1 == end || base[p + 1] == newline { break }
                        p += 1
                    }
                    position = p
                    field.length = UInt32(position) - field.start
                }
                record.append(field)
                if position < end, base[position] == comma {
                    position += 1
                    continue
                }
                if position < end, base[position] == carriage { position += 1 }
                if position < end, base[position] == newline {
                    position += 1
                    line += 1
                }
                return startLine
            }
        }
    }
}

/// A problem in a CSV file, at its line and 1-based field number when known.
public struct CSVError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: Int?
    public var message: String

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let field { text += ":\(field)" }
        return text + ": " + message
    }
}

/// Decimal numbers from bytes, without making a String: optional sign, digits, optional
/// fraction, optional exponent, surrounding spaces allowed; correctly rounded.
enum DecimalParser {
    static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0, end = bytes.count
        while i < end, bytes[i] == 0x20 { i += 1 }
        while end > i, bytes[end - 1] == 0x20 { end -= 1 }
        guard i < end else { return nil }
        let start = i
        var negative = false
        if bytes[i] == 0x2D || bytes[i] == 0x2B {
            negative = bytes[i] == 0x2D
            i += 1
        }
        var mantissa: UInt64 = 0, digits = 0, exponent = 0, sawDigit = false
        while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += 1 } else { exponent += 1 }
            if mantissa == 0 { digits = 0 }
            sawDigit = true
            i += 1
        }
        if i < end, bytes[i] == 0x2E {
            i += 1
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                }
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < end, bytes[i] == 0x65 || bytes[i] == 0x45 {
            i += 1
            var exponentNegative = false
            if i < end, bytes[i] == 0x2D || bytes[i] == 0x2B {
                exponentNegative = bytes[i] == 0x2D
                i += 1
            }
            var value = 0, exponentDigits = 0
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                value = min(value * 10 + Int(bytes[i] - 0x30), 100_000)
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -value : value
        }
        guard i == end else { return nil }
        let magnitude: Double
        if digits <= 15, abs(exponent) <= 22 {
            // Both operands exact, one correctly rounded operation: the correctly rounded value.
            magnitude = exponent < 0 ? Double(mantissa) / powersOfTen[-exponent] : Double(mantissa) * powersOfTen[exponent]
        } else {
            // Rare long or extreme numbers: the standard library's correctly rounded parser.
            guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
            else { return nil }
            return value.isFinite ? value : nil
        }
        guard magnitude.isFinite else { return nil }
        return negative ? -magnitude : magnitude
    }
}
