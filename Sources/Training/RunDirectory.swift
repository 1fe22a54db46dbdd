import Foundation

/// A training run's directory (CONTRACT.md §5): created once, then written file by file, each
/// file replaced atomically so that a run killed at any moment leaves complete files.
public struct RunDirectory: Sendable {
    public let url: URL

    /// `runs/<flow name>/<YYYYmmdd-HHMMSS>/` under the current directory, or `explicit`.
    public static func create(flowName: String, explicit: String?) throws(DataError) -> RunDirectory {
        let url: URL
        if let explicit {
            url = URL(fileURLWithPath: explicit)
        } else {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            formatter.timeZone = TimeZone(identifier: "UTC")
            url = URL(fileURLWithPath: "runs/\(flowName)/\(formatter.string(from: Date()))")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: url.path, message: "cannot be created: \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: url.path) else {
            throw DataError(file: url.path, message: "is not writable")
        }
        return RunDirectory(url: url)
    }

    public init(url: URL) { self.url = url }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `data` to `name` through a temporary file and a rename; with `createDirectory`,
    /// the directories in `name` (`plots/…`) are made first.
    public func write(_ name: String, _ data: Data, createDirectory: Bool = false) throws(DataError) {
        let target = url.appendingPathComponent(name)
        do {
            if createDirectory {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            }
            try data.write(to: target, options: .atomic)
        } catch {
            throw DataError(file: path(name), message: "cannot be written: \(error.localizedDescription)")
        }
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
