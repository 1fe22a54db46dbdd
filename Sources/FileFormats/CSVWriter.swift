import Foundation

/// Writes CSV per RFC 4180: a field is quoted when it holds a comma, a quote, or a line end,
/// and its quotes are doubled. Lines end with LF.
public struct CSVWriter {
    /// Everything appended so far.
    public private(set) var text = ""
    /// The CRC-32C of `text`, kept up with each line, so that a checkpoint records it without
    /// reading the text again.
    public private(set) var checksum: UInt32 = 0

    public init(header: [String]) {
        append(header)
    }

    /// Continues `text` written by a writer before (a resumed run's `metrics.csv`).
    public init(continuing text: String) {
        self.text = text
        checksum = CRC32C.checksum(text.utf8)
    }

    public mutating func append(_ fields: [String]) {
        let line = fields.map(Self.escape).joined(separator: ",") + "\n"
        text += line
        checksum = CRC32C.checksum(line.utf8, continuing: checksum)
    }

    /// Writes everything to `path` atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
