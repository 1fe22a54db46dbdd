import Foundation

/// Replaces a file so that a process killed at any moment, or a machine losing power, leaves
/// the old file or the new one, never a part: the contents go to a temporary file in the
/// target's directory, which is synced, renamed over the target, and the directory synced
/// (the rename is durable only once the directory entry is on disk).
///
/// The temporary file is `.NAME.HEX.tmp` beside the target: a random suffix and `O_EXCL`, so
/// two writers of the same target never share one; the leading dot keeps it out of plain
/// directory listings. A kill mid-write leaves it behind (`isTemporaryFileName` finds it).
public enum DurableFile {
    /// Writes `data` to `path`, replacing any file there.
    public static func write(_ data: Data, to path: String) throws(DurableFileError) {
        try write(to: path) { (output) throws(DurableFileError) in
            try data.withUnsafeBytes { bytes in Result { () throws(DurableFileError) in try output.append(bytes) } }.get()
        }
    }

    /// Replaces the file at `path` with what `contents` appends to its output, for writers that
    /// produce a large file a piece at a time. On failure the temporary file is removed and the
    /// old file, if any, is left as it was.
    public static func write(to path: String,
                             _ contents: (Output) throws(DurableFileError) -> Void) throws(DurableFileError) {
        let (directory, name) = split(path)
        let temporary = "\(directory)/.\(name).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp"
        func failure(_ step: DurableFileError.Step) -> DurableFileError {
            DurableFileError(path: path, temporaryPath: temporary, step: step, reason: String(cString: strerror(errno)))
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(.createTemporaryFile) }
        do throws(DurableFileError) {
            try contents(Output(descriptor: descriptor, path: path, temporaryPath: temporary))
            guard fsync(descriptor) == 0 else { throw failure(.syncTemporaryFile) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        // close can report a write error deferred by the file system (NFS, quotas).
        guard close(descriptor) == 0 else {
            let error = failure(.closeTemporaryFile)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure(.rename)
            unlink(temporary)
            throw error
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw failure(.openDirectory) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw failure(.syncDirectory) }
    }

    /// Whether `name` (a file name, without its directory) is a temporary file of `write`.
    public static func isTemporaryFileName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }

    /// The directory of `path` (`.` when it has none) and its last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }

    /// The temporary file being written, valid only inside `write(to:_:)`.
    public struct Output {
        let descriptor: Int32
        let path: String
        let temporaryPath: String

        /// Appends all of `bytes`, resuming after partial writes and interrupted calls.
        public func append(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) {
            guard let base = bytes.baseAddress else { return }  // nothing to write
            var done = 0
            while done < bytes.count {
                let n = systemWrite(descriptor, base + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw DurableFileError(path: path, temporaryPath: temporaryPath, step: .writeTemporaryFile,
                                           reason: String(cString: strerror(n < 0 ? errno : EIO)))
                }
                done += n
            }
        }

        /// Appends the elements of `buffer` as their bytes in memory.
        public func append<Element>(_ buffer: UnsafeBufferPointer<Element>) throws(DurableFileError) {
            try append(UnsafeRawBufferPointer(buffer))
        }
    }
}

/// Outside `DurableFile`, whose own `write` would hide the system's.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// A file that `DurableFile` could not replace: which file, the step that failed, and the
/// system's reason. The old file, if any, is still there.
public struct DurableFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The steps of a durable replacement, in order.
    public enum Step: Equatable, Sendable {
        case createTemporaryFile, writeTemporaryFile, syncTemporaryFile, closeTemporaryFile
        /// Renaming the temporary file over the target.
        case rename
        /// Opening, then syncing, the target's directory once the rename is done.
        case openDirectory, syncDirectory
    }

    /// The file being replaced.
    public var path: String
    public var temporaryPath: String
    public var step: Step
    /// The system's explanation, e.g. `No space left on device`.
    public var reason: String

    /// The failure without the file, e.g. `cannot sync the temporary file: No space left on device`.
    public var message: String {
        let what = switch step {
        case .createTemporaryFile: "cannot create the temporary file '\(temporaryPath)'"
        case .writeTemporaryFile: "cannot write the temporary file"
        case .syncTemporaryFile: "cannot sync the temporary file"
        case .closeTemporaryFile: "cannot close the temporary file"
        case .rename: "cannot rename the temporary file over the target"
        case .openDirectory: "cannot open the directory to sync it"
        case .syncDirectory: "cannot sync the directory"
        }
        return "\(what): \(reason)"
    }

    public var description: String { "\(path): \(message)" }
}
