import Dispatch
import Foundation

/// A CSV file per RFC 4180, read as bytes: quoted fields with embedded commas, newlines and
/// doubled quotes, a UTF-8 byte-order mark, CRLF or LF line ends, blank lines skipped. Only
/// where each field ends is kept (4 bytes a field); fields are decoded when asked for. A large
/// file is split in pieces on the cores there are, so it loads at the speed of a pass over its
/// bytes per core.
public struct CSVTable: Sendable {
    public let file: String
    public let header: [String]
    public var rowCount: Int { rowStarts.count }
    /// The size of the file in bytes.
    public var byteCount: Int { bytes.count }

    // Usable from inlinable code: the loops over every cell inline `withReader` and its reader.
    @usableFromInline let bytes: [UInt8]
    /// Per data row: the offset of its first byte.
    @usableFromInline let rowStarts: [UInt32]
    /// Per field, row-major: the offset of the byte that ends it (comma, line end, end of file).
    /// A field starts one byte after the previous field's end, or at its row's start.
    @usableFromInline let fieldEnds: OffsetBuffer
    /// The 1-based line each data row starts on, for error locations.
    private let lines: [Int32]

    /// Reads and splits `path`; throws the first problem with its line and field number.
    public static func read(path: String) throws(Problem) -> CSVTable {
        if let problem = RegularFile.problem(at: path) {
            throw Problem(file: path, message: problem)
        }
        guard let bytes = readFile(path) else {
            throw Problem(file: path, message: FileManager.default.fileExists(atPath: path) ? "the file cannot be read" : "no such file")
        }
        return try parse(bytes, file: path)
    }

    /// The file's bytes, read straight into the array that keeps them (no intermediate copy).
    private static func readFile(_ path: String) -> [UInt8]? {
        // Non-blocking, should a named pipe have replaced the file since it was checked.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
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

    /// Splits CSV text already in memory; `file` names it in errors. `pieces` (default: one per
    /// core for files of a few megabytes and more) is how many parts the rows are split in at once.
    public static func parse(_ bytes: [UInt8], file: String, pieces: Int? = nil) throws(Problem) -> CSVTable {
        guard bytes.count < Int(UInt32.max) else {
            throw Problem(file: file, message: "the file is larger than 4 GiB; split it")
        }
        return try bytes.withUnsafeBufferPointer { buffer throws(Problem) -> CSVTable in
            let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, count = buffer.count
            let header = try Self.header(buffer, file: file)
            let body = try Splitter.splitInPieces(base, count: count, from: header.bodyStart, columns: header.names.count,
                                                  firstLine: header.bodyLine, file: file,
                                                  pieces: pieces ?? Splitter.defaultPieces(bytes: count - header.bodyStart))
            return CSVTable(file: file, header: header.names, bytes: bytes, rowStarts: body.rowStarts, fieldEnds: body.ends,
                            lines: body.lines)
        }
    }

    /// A file's header row: the column names, where the records after it start, and on which line.
    struct Header {
        var names: [String]
        /// The offset of the byte after the header row's line end.
        var bodyStart: Int
        var bodyLine: Int
    }

    /// The header row of a file whose first bytes only are in `buffer`, or nil when they may end
    /// before the header row does (read more).
    static func header(prefix buffer: UnsafeBufferPointer<UInt8>, file: String) throws(Problem) -> Header? {
        let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, count = buffer.count
        let start = afterByteOrderMark(buffer)
        // A quoted name going on past these bytes is a quote never closed in them.
        guard let first = try? Splitter.split(base, count: count, from: start, to: count, columns: nil, firstLine: 1,
                                              file: file, records: 1),
              !first.rowStarts.isEmpty, first.position > 0, base[first.position - 1] == 0x0A
        else { return nil }
        return try header(buffer, file: file)
    }

    /// Where the text starts: after a UTF-8 byte-order mark, if there is one.
    private static func afterByteOrderMark(_ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0
    }

    /// Reads the header row of a whole file's bytes; throws its problems.
    static func header(_ buffer: UnsafeBufferPointer<UInt8>, file: String) throws(Problem) -> Header {
        let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, count = buffer.count
        let start = afterByteOrderMark(buffer)
        let first = try Splitter.split(base, count: count, from: start, to: count, columns: nil, firstLine: 1, file: file,
                                       records: 1)
        guard !first.rowStarts.isEmpty else {
            throw Problem(file: file, message: "the file is empty; a header row is required")
        }
        var header: [String] = []
        var fieldStart = Int(first.rowStarts[0])
        for end in first.ends.array {
            let name = UnsafeBufferPointer(rebasing: buffer[fieldStart..<Int(end)])
            if let problem = UTF8Field.problem(name) {
                throw Problem(file: file, line: 1, column: header.count + 1, message: "the column name \(problem)")
            }
            header.append(Self.text(buffer, from: fieldStart, to: Int(end)))
            fieldStart = Int(end) + 1
        }
        // Which of two same-named columns a flow meant cannot be known.
        var firstField: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            if let first = firstField[name] {
                throw Problem(file: file, line: 1, column: index + 1,
                              message: "column '\(name)' appears twice in the header (fields \(first + 1) and \(index + 1))")
            }
            firstField[name] = index
        }
        return Header(names: header, bodyStart: first.position, bodyLine: 1 + first.newlines)
    }

    init(file: String, header: [String], bytes: [UInt8], rowStarts: [UInt32], fieldEnds: OffsetBuffer, lines: [Int32]) {
        self.file = file
        self.header = header
        self.bytes = bytes
        self.rowStarts = rowStarts
        self.fieldEnds = fieldEnds
        self.lines = lines
    }

    /// `semicolons` or `tabs` when the header is one field holding them (whichever there are
    /// more of): a file written with that separator, which this reader, taking commas only, sees
    /// as one column.
    public var apparentSeparator: String? {
        guard header.count == 1 else { return nil }
        let semicolons = header[0].count { $0 == ";" }, tabs = header[0].count { $0 == "\t" }
        guard semicolons + tabs > 0 else { return nil }
        return semicolons >= tabs ? "semicolons" : "tabs"
    }

    /// The index of the column named `name`, if the header has it.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The line in the file where data row `row` (0-based) starts.
    public func line(ofRow row: Int) -> Int { Int(lines[row]) }

    /// A field's text from its raw bytes: a quoted field without its quotes and with doubled
    /// quotes undone, any other as it is.
    private static func text(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> String {
        guard start < end, buffer[start] == 0x22 else {
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[(start + 1)..<(end - 1)]), as: UTF8.self)
        return text.contains("\"") ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
    }

    /// The field as text (quotes removed, doubled quotes undone).
    public func string(row: Int, column: Int) -> String {
        precondition(row >= 0 && row < rowCount && column >= 0 && column < header.count, "no field at row \(row), column \(column)")
        let i = row * header.count + column
        let start = column == 0 ? Int(rowStarts[row]) : Int(fieldEnds.base[i - 1]) + 1
        return bytes.withUnsafeBufferPointer { Self.text($0, from: start, to: Int(fieldEnds.base[i])) }
    }

    /// Calls `body` with the field's bytes (quotes removed, doubled quotes undone), without
    /// making a String.
    @inlinable @inline(__always)
    public func withBytes<Result>(row: Int, column: Int,
                                  _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        precondition(row >= 0 && row < rowCount && column >= 0 && column < header.count, "no field at row \(row), column \(column)")
        return try withReader { try $0.withField(row: row, column: column, body) }
    }

    /// Calls `body` with a reader of the fields that checks no bounds and retains nothing: what
    /// the loops over every cell of a large file use. The reader is valid only inside `body`.
    @inlinable @inline(__always)
    public func withReader<Result>(_ body: (Reader) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBufferPointer { bytes in
            try rowStarts.withUnsafeBufferPointer { rowStarts in
                try body(Reader(table: self, bytes: bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!,
                                rowStarts: rowStarts.baseAddress ?? UnsafePointer(bitPattern: 4)!,
                                fieldEnds: UnsafePointer(fieldEnds.base)))
            }
        }
    }

    /// Fields by row and column, straight from the file's bytes.
    public struct Reader {
        @usableFromInline let table: CSVTable
        @usableFromInline let bytes: UnsafePointer<UInt8>
        @usableFromInline let rowStarts: UnsafePointer<UInt32>
        @usableFromInline let fieldEnds: UnsafePointer<UInt32>

        @usableFromInline
        init(table: CSVTable, bytes: UnsafePointer<UInt8>, rowStarts: UnsafePointer<UInt32>, fieldEnds: UnsafePointer<UInt32>) {
            (self.table, self.bytes, self.rowStarts, self.fieldEnds) = (table, bytes, rowStarts, fieldEnds)
        }

        /// Calls `body` with the field's bytes: inside the quotes of a quoted field, with
        /// doubled quotes undone (only then is a copy made).
        @inlinable @inline(__always)
        public func withField<Result>(row: Int, column: Int,
                                      _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
            let i = row * table.header.count + column
            var start = column == 0 ? Int(rowStarts[row]) : Int(fieldEnds[i - 1]) + 1
            var end = Int(fieldEnds[i])
            if start < end, bytes[start] == 0x22 {
                start += 1
                end -= 1
                if memchr(bytes + start, 0x22, end - start) != nil {
                    return try Array(table.string(row: row, column: column).utf8).withUnsafeBufferPointer(body)
                }
            }
            return try body(UnsafeBufferPointer(start: bytes + start, count: end - start))
        }

        /// The field as a decimal number (`CSVTable.number`).
        @inlinable @inline(__always)
        public func number(row: Int, column: Int) -> Double? {
            withField(row: row, column: column) { DecimalParser.parse($0) }
        }
    }

    /// Whether the field is empty or only white space.
    public func isBlank(row: Int, column: Int) -> Bool {
        withBytes(row: row, column: column) { field in
            // ASCII spaces and tabs are decided here; other Unicode white space by String's rules.
            guard field.allSatisfy({ $0 < 0x80 }) else {
                return String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces).isEmpty
            }
            return field.allSatisfy { $0 == 0x20 || $0 == 0x09 }
        }
    }

    /// The field as a decimal number, parsed straight from its bytes; nil when it is not one
    /// (empty, text, `NaN`, `inf` and other non-finite spellings included).
    @inlinable
    public func number(row: Int, column: Int) -> Double? {
        withBytes(row: row, column: column) { DecimalParser.parse($0) }
    }

    /// Where the records of a stretch of the file start and their fields end.
    struct Split {
        var rowStarts: [UInt32] = []
        var ends = OffsetBuffer(capacity: 0)
        var lines: [Int32] = []
        /// Where splitting stopped: after the last record's line end.
        var position = 0
        /// Line ends passed, blank lines and those inside quoted fields included.
        var newlines = 0
    }

    /// Splits records over the file's bytes, without bounds checks in the loops.
    enum Splitter {
        /// What a quote opened and never closed before the end of the bytes is told.
        static let unclosedQuote = "the row has a quoted field that is never closed"

        /// One piece per core once each piece has a few megabytes: below that, starting threads costs more.
        static func defaultPieces(bytes: Int) -> Int {
            max(1, min(ProcessInfo.processInfo.activeProcessorCount, bytes / (4 << 20)))
        }

        /// Splits from `from` (a record's start) to the end of the file in `pieces` parts at
        /// once. Each part starts after a line end; a part is right when the part before it
        /// stopped exactly there (a quoted field with a line end can make it stop later). When
        /// one is not, or a part finds a problem, the file is split again in one pass, which
        /// is always right and finds the first problem with its line.
        static func splitInPieces(_ base: UnsafePointer<UInt8>, count: Int, from: Int, columns: Int, firstLine: Int,
                                  file: String, pieces: Int) throws(Problem) -> Split {
            guard pieces > 1 else {
                return try split(base, count: count, from: from, to: count, columns: columns, firstLine: firstLine, file: file)
            }
            var starts = [from]
            for k in 1..<pieces {
                var p = max(from + (count - from) * k / pieces, starts[k - 1])
                while p < count, base[p] != 0x0A { p += 1 }
                starts.append(min(p + 1, count))
            }
            starts.append(count)
            let parts = PieceResults(pieces)
            let bounds = starts
            nonisolated(unsafe) let base = base  // read only, by every worker
            DispatchQueue.concurrentPerform(iterations: pieces) { k in
                parts.store(k, try? split(base, count: count, from: bounds[k], to: bounds[k + 1], columns: columns,
                                          firstLine: 0, file: file))
            }
            let results = parts.results
            let fits = results.indices.allSatisfy { k in results[k].map { $0.position == starts[k + 1] } ?? false }
            guard fits else {
                return try split(base, count: count, from: from, to: count, columns: columns, firstLine: firstLine, file: file)
            }
            let rows = results.reduce(0) { $0 + $1!.rowStarts.count }
            var whole = Split(ends: OffsetBuffer(capacity: rows * columns))
            whole.rowStarts.reserveCapacity(rows)
            whole.lines.reserveCapacity(rows)
            var line = firstLine
            for part in results.map({ $0! }) {
                whole.rowStarts += part.rowStarts
                whole.ends.append(contentsOf: part.ends)
                let offset = Int32(truncatingIfNeeded: line)
                whole.lines += part.lines.lazy.map { $0 + offset }
                line += part.newlines
            }
            whole.position = count
            whole.newlines = line - firstLine
            return whole
        }

        /// Splits the records that start before `to` (at most `records` of them); each must
        /// have `columns` fields when that is given. `firstLine` is the line `from` is on.
        static func split(_ base: UnsafePointer<UInt8>, count end: Int, from: Int, to: Int, columns: Int?,
                          firstLine: Int, file: String, records: Int = .max) throws(Problem) -> Split {
            let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, newline: UInt8 = 0x0A, carriage: UInt8 = 0x0D
            var rowStarts: [UInt32] = [], lines: [Int32] = []
            let expectedRows = records == 1 ? 1 : (to - from) / max(8 * (columns ?? 1), 1) + 16
            rowStarts.reserveCapacity(expectedRows)
            lines.reserveCapacity(expectedRows)
            // The field ends are written through a local pointer: an Array's append would check
            // its uniqueness and capacity on every field.
            let ends = OffsetBuffer(capacity: expectedRows * (columns ?? 1))
            var endsBase = ends.base, endsCount = 0
            var p = from, line = firstLine
            while rowStarts.count < records {
                // Blank lines (and a trailing line end) hold no record.
                while p < to, base[p] == newline || base[p] == carriage {
                    if base[p] == newline { line += 1 }
                    p += 1
                }
                guard p < to else { break }
                let startLine = line, firstField = endsCount
                rowStarts.append(UInt32(truncatingIfNeeded: p))
                lines.append(Int32(truncatingIfNeeded: line))
                while true {
                    if p < end, base[p] == quote {
                        p += 1
                        while true {
                            guard p < end else {
                                throw Problem(file: file, line: startLine, column: endsCount - firstField + 1,
                                              message: unclosedQuote)
                            }
                            let byte = base[p]
                            if byte == quote {
                                if p + 1 < end, base[p + 1] == quote {
                                    p += 2
                                    continue
                                }
                                break
                            }
                            if byte == newline { line += 1 }
                            p += 1
                        }
                        p += 1  // the closing quote
                        if p < end, base[p] != comma, base[p] != newline, base[p] != carriage {
                            throw Problem(file: file, line: line, column: endsCount - firstField + 1,
                                          message: "the row has text after a closing quote; a quote inside a quoted field is written twice")
                        }
                    } else {
                        // The hot loop of a large numeric file: stop at a comma or a line end.
                        while p < end {
                            let byte = base[p]
                            if byte == comma || byte == newline { break }
                            if byte == carriage, p + 1 == end || base[p + 1] == newline { break }
                            p += 1
                        }
                    }
                    if endsCount == ends.capacity {
                        ends.count = endsCount
                        ends.grow()
                        endsBase = ends.base
                    }
                    endsBase[endsCount] = UInt32(truncatingIfNeeded: p)
                    endsCount += 1
                    if p < end, base[p] == comma {
                        p += 1
                        continue
                    }
                    if p < end, base[p] == carriage { p += 1 }
                    if p < end, base[p] == newline {
                        p += 1
                        line += 1
                    }
                    break
                }
                let fields = endsCount - firstField
                if let columns, fields != columns {
                    throw Problem(file: file, line: startLine, column: min(fields, columns + 1),
                                  message: "the row has \(fields) field\(fields == 1 ? "" : "s"), the header \(columns)")
                }
            }
            ends.count = endsCount
            return Split(rowStarts: rowStarts, ends: ends, lines: lines, position: p, newlines: line - firstLine)
        }
    }
}

/// Offsets in memory of their own, appended to without the checks of an Array's append.
@usableFromInline
final class OffsetBuffer: @unchecked Sendable {
    @usableFromInline private(set) var base: UnsafeMutablePointer<UInt32>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Doubles the capacity, keeping the first `count` offsets.
    func grow() {
        let larger = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * capacity)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    func append(contentsOf other: OffsetBuffer) {
        while count + other.count > capacity { grow() }
        (base + count).update(from: other.base, count: other.count)
        count += other.count
    }

    var array: [UInt32] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

/// The parts of a file split at once, each stored by the worker that split it.
private final class PieceResults: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [CSVTable.Split?]

    init(_ count: Int) { parts = Array(repeating: nil, count: count) }

    func store(_ k: Int, _ part: CSVTable.Split?) {
        lock.lock()
        parts[k] = part
        lock.unlock()
    }

    var results: [CSVTable.Split?] {
        lock.lock()
        defer { lock.unlock() }
        return parts
    }
}
