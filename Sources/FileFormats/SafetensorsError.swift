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
