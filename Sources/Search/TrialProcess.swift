import FileFormats
import Foundation
import Synchronization

/// One job of a trial as a process of its own: `flowtrain train FLOW --run-dir DIR --threads T`,
/// with `--resume` once the directory holds the trial's run and `--pause-after E` below the
/// last rung, its standard error appended to the trial's log. The processes a search starts
/// end up in one queue, `Ended`, which the search waits on.
struct TrialProcess {
    let job: AshaScheduler.Job
    let process: Process
    /// Where the job's part of the log starts.
    let logOffset: UInt64

    /// The jobs whose processes have ended, in the order they ended, and a semaphore the
    /// search waits on, signalled at each end.
    final class Ended: Sendable {
        private let jobs = Mutex<[AshaScheduler.Job]>([])
        let signal = DispatchSemaphore(value: 0)

        func add(_ job: AshaScheduler.Job) {
            jobs.withLock { $0.append(job) }
            signal.signal()
        }

        func take() -> [AshaScheduler.Job] { jobs.withLock { jobs in defer { jobs = [] }; return jobs } }
    }

    /// Starts `flowtrain` (`executable`) training `flow` into `run` for `job`.
    static func start(_ job: AshaScheduler.Job, executable: URL, flow: String, run: String, resume: Bool,
                      pauseAfter: Int?, threads: Int, log: String, ended: Ended) throws(Problem) -> TrialProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["train", flow, "--run-dir", run, "--threads", String(threads),
                             "--parent-process", String(getpid())]
            + (resume ? ["--resume"] : []) + (pauseAfter.map { ["--pause-after", String($0)] } ?? [])
        process.environment = childEnvironment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let handle: FileHandle
        do {
            try FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard FileManager.default.fileExists(atPath: log) || FileManager.default.createFile(atPath: log, contents: nil) else {
                throw CocoaError(.fileWriteUnknown)
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        } catch {
            throw Problem(file: log, message: "cannot be written: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let offset = (try? handle.seekToEnd()) ?? 0
        process.standardError = handle
        process.terminationHandler = { _ in ended.add(job) }
        do { try process.run() } catch {
            throw Problem(file: executable.path, message: "cannot be started: \(error.localizedDescription)")
        }
        return TrialProcess(job: job, process: process, logOffset: offset)
    }

    /// The environment without mpirun's variables: a trial trains alone, even when the search
    /// runs under mpirun (it would otherwise try to join the search's MPI job).
    static var childEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "OPAL_", "PRTE_", "HYDRA_", "PMI_"].contains { key.hasPrefix($0) }
        }
    }

    /// Why the job failed, from what it wrote to the log: the first line that is not progress.
    func failureNote(log: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: log) else { return "exit status \(process.terminationStatus)" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: logOffset)
        let text = String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
        let line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && !$0.hasPrefix("training ") && !$0.hasPrefix("epoch ") }
        let status = process.terminationReason == .uncaughtSignal ? "killed by signal \(process.terminationStatus)"
            : "exit status \(process.terminationStatus)"
        return (line.map { String($0.prefix(400)) + " " } ?? "") + "(\(status))"
    }
}
