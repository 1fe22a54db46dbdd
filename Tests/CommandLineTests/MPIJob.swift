import Foundation
import Testing

/// `flowtrain train` under mpirun, started in the background, for tests that stop or kill its
/// processes while it trains: its standard error read as it comes, its processes found by rank,
/// its end awaited with a time limit.
final class MPIJob: @unchecked Sendable {
    let process = Process()
    let runDirectory: URL
    private let lock = NSLock()
    private var errors = Data()
    private let finishedReading = DispatchSemaphore(value: 0)

    /// Starts `flowtrain train FLOW --run-dir RUN --threads 1 [--resume]` in `processes` processes.
    init(_ processes: Int, flow: URL, runDirectory: URL, resume: Bool = false) throws {
        self.runDirectory = runDirectory
        let mpirun = try #require(DataParallelTests.mpirun, "mpirun is not installed: `make deps` installs Open MPI")
        process.executableURL = mpirun
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", String(processes), flowtrainBinary.path,
                             "train", flow.path, "--run-dir", runDirectory.path, "--threads", "1"] + (resume ? ["--resume"] : [])
        process.standardOutput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        Thread { [self] in
            // What the pipe holds each time (`read(upToCount:)` would wait for the count).
            while case let data = pipe.fileHandleForReading.availableData, !data.isEmpty {
                lock.withLock { errors.append(data) }
            }
            finishedReading.signal()
        }.start()
    }

    deinit { Self.end(process) }

    /// Ends an mpirun job still running: SIGTERM, on which mpirun ends its processes (a SIGKILL
    /// would leave them running, waiting for each other), then SIGKILL if it is still there.
    static func end(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// What the job has written to standard error so far (all of it once `wait` returned).
    var stderr: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// Waits until standard error holds `text`, at most two minutes.
    func waitFor(_ text: String) throws {
        let deadline = Date().addingTimeInterval(120)
        while !stderr.contains(text), process.isRunning, Date() < deadline { usleep(1_000) }
        try #require(stderr.contains(text), "never wrote '\(text)': \(stderr)")
    }

    /// Waits until the run has its first checkpoint (an epoch is done), at most two minutes.
    func waitForCheckpoint() throws {
        let checkpoint = runDirectory.appendingPathComponent("checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint), process.isRunning, Date() < deadline { usleep(2_000) }
        try #require(FileManager.default.fileExists(atPath: checkpoint), "no checkpoint: \(stderr)")
    }

    /// The processes by rank, `count` of them, once they have all started (at most a minute):
    /// among the processes training into this run directory, those Open MPI gave each rank in
    /// their environment.
    func processes(_ count: Int) throws -> [pid_t] {
        let path = Data(runDirectory.path.utf8)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            var found = [pid_t?](repeating: nil, count: count)
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
            for pid in pids where pid != process.processIdentifier {
                guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), command.range(of: path) != nil,
                      let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
                for rank in 0..<count where environment.range(of: Data("OMPI_COMM_WORLD_RANK=\(rank)\0".utf8)) != nil {
                    found[rank] = pid
                }
            }
            if found.allSatisfy({ $0 != nil }) { return found.compactMap { $0 } }
            usleep(10_000)
        }
        Issue.record("the job's \(count) processes did not all start: \(stderr)")
        throw CancellationError()
    }

    /// The job's exit status once it has ended, waiting at most `seconds`; nil if it still runs.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        _ = finishedReading.wait(timeout: .now() + 10)
        return process.terminationStatus
    }
}
