import FileFormats
import Foundation
import Training

/// A search's directory (docs/commands/search.md): `search.json` (what the search was started
/// with), `flows/<n>.yaml` (each trial's flow), `trials/<n>/` (each trial's run directory, an
/// ordinary one), `logs/<n>.log` (each trial's standard error), `trials.csv`, and at the end
/// `best.yaml` and `search.html`. A new search needs a new or empty directory; `--resume`
/// needs the one a search with the same flow file, seed, trials and processes started.
public struct SearchDirectory: Sendable {
    public let run: RunDirectory

    /// What a search was started with: a resumed one must be the same search.
    public struct Manifest: Codable, Equatable, Sendable {
        /// The flow file's text, as given.
        public var flow: String
        public var seed: Int
        public var trials: Int
        /// Processes under mpirun (1 alone), which share the trials out.
        public var processes: Int
    }

    static let manifestName = "search.json"

    /// Makes (or, resuming, opens) the directory and locks it: `explicit`, or
    /// `runs/<flow name>-search/<YYYYmmdd-HHMMSS>`. Only the first process locks it and writes
    /// the manifest; every process checks it. Throws an `UnusableRunDirectory` or a `Problem`.
    public static func open(flowName: String, explicit: String?, manifest: Manifest, resume: Bool,
                            isFirst: Bool) throws -> SearchDirectory {
        let run = try RunDirectory.create(flowName: flowName + "-search", explicit: explicit)
        let directory = SearchDirectory(run: run)
        if isFirst { try run.lock() }
        let manifestPath = run.path(manifestName)
        if resume {
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw Problem(file: run.url.path, message: "holds no search to resume (no \(manifestName)); "
                              + "search without --resume to start one")
            }
            guard let started = try? JSONDecoder().decode(Manifest.self, from: data) else {
                throw Problem(file: manifestPath, message: "cannot be read as a search's manifest")
            }
            if started.flow != manifest.flow {
                throw Problem(file: manifestPath, message: "was written for another flow file: a search resumes with the flow "
                              + "it was started with; choose another --run-dir for a changed flow")
            }
            for (what, was, now) in [("seed", started.seed, manifest.seed), ("trials", started.trials, manifest.trials),
                                     ("processes", started.processes, manifest.processes)] where was != now {
                throw Problem(file: manifestPath, message: "the search was started with \(was) \(what), not \(now); a resumed "
                              + "search keeps them")
            }
            return directory
        }
        // Only the lock, or nothing: a directory with other files is never written into.
        if isFirst, !run.isEmpty {
            throw FileManager.default.fileExists(atPath: manifestPath)
                ? Problem(file: run.url.path, message: "holds a search already; add --resume to continue it, or choose another --run-dir")
                : Problem(file: run.url.path, message: "is not empty; a search writes trials/, flows/, trials.csv and more there: "
                          + "choose a new or empty --run-dir")
        }
        return directory
    }

    /// Writes the manifest: after every process has checked the directory.
    public func start(_ manifest: Manifest) throws(Problem) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(manifest) else { return }
        try run.write(Self.manifestName, data)
    }

    public func flowPath(_ trial: Int) -> String { run.path("flows/\(trial).yaml") }
    public func trialRun(_ trial: Int) -> RunDirectory { RunDirectory(url: run.url.appendingPathComponent("trials/\(trial)")) }
    public func logPath(_ trial: Int) -> String { run.path("logs/\(trial).log") }
}
