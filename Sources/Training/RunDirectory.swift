import FileFormats
import Foundation

/// A training run's directory (docs/run-directory.md): created once, then written file by file, each
/// file replaced atomically so that a run killed at any moment leaves complete files.
public struct RunDirectory: Sendable {
    public let url: URL

    /// `explicit`, made when it does not exist, or else a new directory
    /// `runs/<flow name>/<YYYYmmdd-HHMMSS>/` under the current directory (UTC), with `-2`, `-3`…
    /// after the time when a run started in the same second has it: each is made with one
    /// `mkdir`, which fails when the directory exists, so concurrent starts never share one.
    public static func create(flowName: String, explicit: String?) throws(UnusableRunDirectory) -> RunDirectory {
        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            try makeDirectory(url)
            return try writable(url)
        }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let stamp = formatter.string(from: Date())
        let parent = URL(fileURLWithPath: "runs/\(flowName)")
        try makeDirectory(parent)
        for suffix in 1...1000 {
            let url = parent.appendingPathComponent(suffix == 1 ? stamp : "\(stamp)-\(suffix)")
            if mkdir(url.path, 0o755) == 0 { return try writable(url) }
            guard errno == EEXIST else {
                throw .cannotCreate(path: url.path, reason: String(cString: strerror(errno)))
            }
        }
        throw .tooManyRuns(parent: parent.path, stamp: stamp)
    }

    private static func makeDirectory(_ url: URL) throws(UnusableRunDirectory) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreate(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func writable(_ url: URL) throws(UnusableRunDirectory) -> RunDirectory {
        guard FileManager.default.isWritableFile(atPath: url.path) else { throw .notWritable(directory: url.path) }
        return RunDirectory(url: url)
    }

    public init(url: URL) { self.url = url }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `data` to `name` durably (`DurableFile`), so that a run killed at any moment (or a
    /// machine losing power) leaves the old file or the new one, never a part. With
    /// `createDirectory`, the directories in `name` (`plots/…`) are made first.
    public func write(_ name: String, _ data: Data, createDirectory: Bool = false) throws(Problem) {
        let target = url.appendingPathComponent(name)
        if createDirectory {
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            } catch {
                throw Problem(file: path(name), message: "cannot be written: \(error.localizedDescription)")
            }
        }
        do { try DurableFile.write(data, to: target.path) } catch {
            let what = switch error.step {
            case .createTemporaryFile: "creating a temporary file"
            case .writeTemporaryFile, .syncTemporaryFile: "writing"
            case .closeTemporaryFile, .rename: "renaming into place"
            case .openDirectory: "opening the directory to sync it"
            case .syncDirectory: "syncing the directory"
            }
            throw Problem(file: target.path, message: "cannot be written (\(what): \(error.reason))")
        }
    }

    /// Whether the directory holds a run already: its `flow.yaml`, and the `.lock` a training
    /// takes before writing it or the `state.json` of an epoch done (so that a user's own
    /// `flow.yaml` does not make a directory a run).
    public var holdsRun: Bool {
        let exists = { (name: String) in FileManager.default.fileExists(atPath: self.path(name)) }
        return exists("flow.yaml") && (exists(".lock") || exists("state.json"))
    }

    /// Removes the temporary files (`.NAME.HEX.tmp`) of replacements that a training killed
    /// mid-write left, in the directory and its subdirectories (`plots/`). Only for the holder
    /// of the lock: another training's would be in flight.
    public func removeLeftoverTemporaryFiles() {
        let manager = FileManager.default
        let subdirectories = ((try? manager.contentsOfDirectory(atPath: url.path)) ?? []).filter { name in
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: path(name), isDirectory: &isDirectory) && isDirectory.boolValue
        }
        for directory in [url] + subdirectories.map({ url.appendingPathComponent($0) }) {
            for name in (try? manager.contentsOfDirectory(atPath: directory.path)) ?? []
            where DurableFile.isTemporaryFileName(name) {
                try? manager.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    /// Whether the directory holds nothing, or only what a training killed before `flow.yaml`
    /// landed leaves: its lock, and the temporary file of `flow.yaml` when the kill came during
    /// that write (a search killed at that moment met such a trial directory on `--resume`, and
    /// its trial failed). A directory a new run may be written into.
    public var isEmpty: Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return entries.allSatisfy { $0 == ".lock" || ($0.hasPrefix(".flow.yaml.") && DurableFile.isTemporaryFileName($0)) }
    }

    /// Takes the directory for one training: an exclusive `flock` on `.lock`, which the kernel
    /// releases when the process ends however it ends (a killed run never leaves it stuck).
    /// The lock lasts as long as the process.
    public func lock() throws(UnusableRunDirectory) {
        let lockPath = path(".lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotCreate(path: lockPath, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, buffer.count)
            let holder = String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw .inUse(directory: url.path, holder: holder.isEmpty ? nil : holder)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        // The descriptor stays open (and locked) until the process exits.
    }
}

/// `state.json`: everything later commands need besides the weights and the flow.
public struct RunState: Codable, Sendable {
    public var flowName: String
    public var statistics: DataStatistics
    public var epochsDone: Int
    public var bestEpoch: Int
    public var optimizerSteps: Int
    public var seed: Int
    public var flowtrainVersion: String
    /// The absolute directory of the flow file that was trained: its data paths are relative
    /// to it, and later commands find the data there.
    public var flowDirectory: String
}
