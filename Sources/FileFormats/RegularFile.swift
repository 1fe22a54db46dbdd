import Foundation

/// Data files (CSV, PNG) are read whole from their size, and `open` on a named pipe without a
/// writer blocks for ever: anything but a regular file is refused before it is opened.
enum RegularFile {
    /// Why `path` cannot be read as a data file, or nil for a regular file (or one that does not
    /// exist: opening it then says so).
    static func problem(at path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let kind: String
        switch status.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: kind = "a named pipe"
        case S_IFDIR: kind = "a directory"
        case S_IFSOCK: kind = "a socket"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        default: kind = "not a file"
        }
        return "is \(kind), not a regular file; data is read whole from a file, so write it to one first"
    }
}
