import Foundation

/// One process's share of a CSV file that several processes read together (training under
/// `mpirun`), each only its own bytes: the header row, which every process reads, and the
/// records whose first byte lies in the `part`-th of `parts` equal stretches of the file after
/// the header, each stretch's ends moved on to the next record start. The shares together hold
/// every record once, in file order, each with the line number it has in the file.
///
/// A record starts after a line end that is not inside a quoted field, and whether one is
/// follows from the quotes before it (RFC 4180: inside after an odd number; a doubled quote
/// counts twice). So reading takes two steps and an exchange between them: `init` reads the
/// stretch and counts its quotes and line ends; given the sums of the counts of the stretches
/// before it (which the processes exchange), `table` moves both ends of the stretch to record
/// starts, reading on past its end as far as that takes, and splits the records.
///
/// A quote inside an unquoted field (`12" pipe`), which the reader takes as text, throws the
/// count off. Where that makes a line end inside a quoted field look like a record start, the
/// share before it finds itself inside quotes at its end, and `table` refuses, located there.
public final class CSVShare {
    public let file: String
    public let header: [String]
    /// Quotes and line ends in this share's stretch of the file, before its ends are moved.
    public let quotes: Int, newlines: Int
    private let part: Int, parts: Int
    private let descriptor: Int32
    /// The file's size in bytes.
    public let size: Int
    /// Where the records after the header start, and the line there.
    private let bodyStart: Int, bodyLine: Int
    /// Bytes of the file from `bufferStart` on, as far as they were needed.
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// Bytes read at a time past the stretch: a line or a few, usually.
    private static let readAhead = 64 << 10

    /// Opens `path`, reads its header row and the stretch of share `part` (0-based) of `parts`,
    /// and counts the stretch's quotes and line ends. Throws the file's problems as reading the
    /// whole file would (no file, not a regular one, a bad header row).
    public init(path: String, part: Int, of parts: Int) throws(Problem) {
        precondition(parts >= 1 && (0..<parts).contains(part), "share \(part) of \(parts)")
        if let problem = RegularFile.problem(at: path) { throw Problem(file: path, message: problem) }
        (file, self.part, self.parts) = (path, part, parts)
        // Non-blocking, should a named pipe have replaced the file since it was checked.
        descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            if descriptor >= 0 { close(descriptor) }
            throw Problem(file: path, message: FileManager.default.fileExists(atPath: path) ? "the file cannot be read" : "no such file")
        }
        size = Int(status.st_size)
        let header: CSVTable.Header, first: Int
        do {
            header = try Self.header(descriptor, size: size, file: path)
            // The stretch, and the byte before it: whether its first byte starts a line.
            let body = size - header.bodyStart
            first = header.bodyStart + body * part / parts
            bufferStart = max(first - 1, header.bodyStart)
            let end = header.bodyStart + body * (part + 1) / parts
            buffer = try Self.read(descriptor, from: bufferStart, count: end - bufferStart, file: path, spare: Self.readAhead)
        } catch {
            close(descriptor)
            throw error
        }
        (self.header, bodyStart, bodyLine) = (header.names, header.bodyStart, header.bodyLine)
        var quotes = 0, newlines = 0
        for byte in buffer[(first - bufferStart)...] {
            if byte == 0x22 { quotes += 1 } else if byte == 0x0A { newlines += 1 }
        }
        (self.quotes, self.newlines) = (quotes, newlines)
    }

    deinit { close(descriptor) }

    /// The header row, from as many of the file's first bytes as it takes.
    private static func header(_ descriptor: Int32, size: Int, file: String) throws(Problem) -> CSVTable.Header {
        var count = min(size, readAhead)
        while true {
            let bytes = try read(descriptor, from: 0, count: count, file: file)
            let header = try bytes.withUnsafeBufferPointer { bytes throws(Problem) -> CSVTable.Header? in
                count == size ? try CSVTable.header(bytes, file: file) : try CSVTable.header(prefix: bytes, file: file)
            }
            if let header { return header }
            count = min(size, 2 * count)
        }
    }

    /// Where stretch `k` starts: the body of the file cut in `parts` equal stretches.
    private func stretchStart(_ k: Int) -> Int { bodyStart + (size - bodyStart) * k / parts }

    /// Reads the file on until the buffer holds it up to offset `end`.
    private func read(upTo end: Int) throws(Problem) {
        let have = bufferStart + buffer.count
        guard end > have else { return }
        buffer += try Self.read(descriptor, from: have, count: end - have, file: file)
    }

    /// `count` bytes of the file from `offset` on, with room for `spare` more.
    private static func read(_ descriptor: Int32, from offset: Int, count: Int, file: String,
                             spare: Int = 0) throws(Problem) -> [UInt8] {
        let bytes = [UInt8](unsafeUninitializedCapacity: count + spare) { bytes, initialized in
            initialized = 0
            guard let base = bytes.baseAddress else { return }
            while initialized < count {
                let n = pread(descriptor, base + initialized, count - initialized, off_t(offset + initialized))
                if n <= 0 { break }
                initialized += n
            }
        }
        guard bytes.count == count else { throw Problem(file: file, message: "the file cannot be read") }
        return bytes
    }

    /// This share's records, their lines numbered as in the file, given the quotes and the line
    /// ends in the stretches of the shares before this one (called once). Throws the first
    /// problem in them, as splitting the whole file would have met it.
    public func table(quotesBefore: Int, newlinesBefore: Int) throws(Problem) -> CSVTable {
        let start = part == 0 ? (offset: bodyStart, newlines: 0)
            : try recordStart(from: stretchStart(part), quotesBefore: quotesBefore)
        let end = part == parts - 1 ? size
            : max(try recordStart(from: stretchStart(part + 1), quotesBefore: quotesBefore + quotes).offset, start.offset)
        try read(upTo: end)
        buffer.removeLast(bufferStart + buffer.count - end)  // read ahead past the share
        guard buffer.count < Int(UInt32.max) else {
            throw Problem(file: file, message: "one process's share of the file is larger than 4 GiB",
                          hint: "train with more processes, or split the file")
        }
        let firstLine = bodyLine + newlinesBefore + start.newlines
        let split: CSVTable.Split
        do {
            split = try buffer.withUnsafeBufferPointer { bytes throws(Problem) in
                try CSVTable.Splitter.splitInPieces(
                    bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: bytes.count, from: start.offset - bufferStart,
                    columns: header.count, firstLine: firstLine, file: file,
                    pieces: CSVTable.Splitter.defaultPieces(bytes: end - start.offset))
            }
        } catch where error.message == CSVTable.Splitter.unclosedQuote && end < size {
            var refusal = error
            refusal.message = "a quoted field here holds a line end where the next process's share of the file starts, "
                + "which the count of quotes before it took for the end of a row: a quote inside an unquoted field "
                + "before here (such as 12\" pipe) throws that count off"
            refusal.hint = "write such a field quoted, its quote doubled (\"12\"\" pipe\"), or train in one process"
            throw refusal
        }
        let table = CSVTable(file: file, header: header, bytes: buffer, rowStarts: split.rowStarts, fieldEnds: split.ends,
                             lines: split.lines)
        buffer = []
        return table
    }

    /// The first record start at or after offset `from`, where `quotesBefore` quotes come
    /// before it in the body of the file, and the line ends passed from `from` to there. A
    /// record starts where the body does, or after a line end with an even number of quotes
    /// before it; none left: the end of the file.
    private func recordStart(from: Int, quotesBefore: Int) throws(Problem) -> (offset: Int, newlines: Int) {
        var offset = from, inQuotes = quotesBefore % 2 == 1, newlines = 0
        while offset < size {
            try read(upTo: min(size, offset + Self.readAhead))
            let limit = bufferStart + buffer.count
            while offset < limit {
                if !inQuotes, offset == bodyStart || buffer[offset - 1 - bufferStart] == 0x0A { return (offset, newlines) }
                let byte = buffer[offset - bufferStart]
                if byte == 0x22 { inQuotes.toggle() } else if byte == 0x0A { newlines += 1 }
                offset += 1
            }
        }
        return (size, newlines)
    }
}
