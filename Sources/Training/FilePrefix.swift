import FileFormats
import Foundation

/// What a checkpoint records of a run file that only grows (`metrics.csv`, `diagnostics.csv`,
/// `worst_samples.csv`): its length and CRC-32C when the checkpoint was taken. A resumed run
/// continues from the file's first `bytes` bytes, whatever was appended after them, so the
/// checkpoint stays the same size however long the run, where a copy of the file would grow
/// with every epoch.
struct FilePrefix: Equatable {
    var bytes: Int
    var checksum: UInt32

    /// The text `writer` has written so far.
    init(of writer: CSVWriter) {
        (bytes, checksum) = (writer.text.utf8.count, writer.checksum)
    }

    /// `1234:9a3f00c1`, as `metadata` writes it; nil for anything else.
    init?(metadata: String) {
        let parts = metadata.split(separator: ":")
        guard parts.count == 2, let bytes = Int(parts[0]), bytes >= 0, let checksum = UInt32(parts[1], radix: 16) else {
            return nil
        }
        (self.bytes, self.checksum) = (bytes, checksum)
    }

    var metadata: String { "\(bytes):\(String(checksum, radix: 16))" }

    /// The first `bytes` bytes of the file `name` of `run`, when they are still those recorded.
    func text(of name: String, in run: RunDirectory) throws(Problem) -> String {
        let path = run.path(name)
        let contents = FileManager.default.contents(atPath: path) ?? Data()
        guard contents.count >= bytes, CRC32C.checksum(contents.prefix(bytes)) == checksum else {
            throw Problem(file: path, message: "no longer begins with the \(bytes) bytes the checkpoint recorded; a run "
                          + "resumes from its own files: restore them, or train a new run with another --run-dir")
        }
        return String(decoding: contents.prefix(bytes), as: UTF8.self)
    }
}
