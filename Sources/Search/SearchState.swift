import FileFormats
import FlowSpec
import Foundation
import Training

/// A search under way in this process: its trials' records, the scheduler, and the jobs running
/// as processes. Every start and end rewrites the ledger.
struct SearchState {
    let search: HyperparameterSearch
    private var records: [Int: TrialRecord]
    private var scheduler: AshaScheduler
    private var active: [AshaScheduler.Job: TrialProcess] = [:]
    private let ended = TrialProcess.Ended()
    /// Whether it continues a killed search's ledger.
    let resumed: Bool

    /// A new search's state, or with `--resume` the one its ledger kept: the values it holds
    /// must be this search's draws.
    init(_ search: HyperparameterSearch) throws {
        self.search = search
        records = Dictionary(uniqueKeysWithValues: search.ownTrials.map { trial in
            (trial, TrialRecord(trial: trial, values: search.values[trial - 1]))
        })
        scheduler = AshaScheduler(rungs: search.rungs, reduction: search.settings.reduction, trials: search.ownTrials,
                                  goal: search.settings.objective.goal == .minimize ? .minimize : .maximize)
        let ledger = search.ledger
        resumed = search.request.resume && FileManager.default.fileExists(atPath: ledger.path)
        guard resumed else { return }
        for (trial, row) in try ledger.read() {
            guard let record = records[trial] else { continue }
            guard row.values == record.values.map(\.text) else {
                throw Problem(file: ledger.path, message: "holds other values for trial \(trial) (\(row.values.joined(separator: ", "))) "
                              + "than this search draws (\(record.values.map(\.text).joined(separator: ", ")))")
            }
            records[trial] = TrialRecord(trial: trial, values: record.values, row: row)
        }
        let all = records.values
        // A trial the killed search was training notices within half a second that its parent
        // is gone: it exits at once, or (training) holds its directory until it has stopped
        // after a step, which `waitUntilFree` waits for. Past that second, none is left loading.
        if all.contains(where: { $0.status == .running }) { sleep(1) }
        let reached = all.filter { !$0.rungObjectives.isEmpty }.map { ($0.trial, $0.rungObjectives) }
        scheduler.restore(objectives: Dictionary(uniqueKeysWithValues: reached),
                          failed: Set(all.filter { $0.status == .failed }.map(\.trial)),
                          running: all.filter { $0.status == .running }.map { .init(trial: $0.trial, rung: $0.rungObjectives.count) },
                          started: all.filter { $0.status != .pending }.count)
    }

    /// Starts jobs while fewer than `parallel` run, and takes each result as it comes, until the
    /// scheduler has nothing left (true) or `shouldStop` (false).
    mutating func runJobs(parallel: Int, threads: Int) throws -> Bool {
        while true {
            if search.shouldStop() {
                try stop()
                return false
            }
            while active.count < parallel, let job = scheduler.next() { try start(job, threads: threads) }
            if active.isEmpty { return true }
            _ = ended.signal.wait(timeout: .now() + 0.5)
            for job in ended.take() { try end(job, stopping: false) }
        }
    }

    /// The records once every job is done: trials paused at a rung are stopped there.
    mutating func finished() throws(Problem) -> [TrialRecord] {
        for (trial, record) in records where record.status == .paused { records[trial]?.status = .stopped }
        try writeLedger()
        return records.values.sorted { $0.trial < $1.trial }
    }

    private mutating func start(_ job: AshaScheduler.Job, threads: Int) throws {
        let trial = job.trial, directory = search.directory
        let text = search.flowText(trial)
        try directory.run.write("flows/\(trial).yaml", Data(text.utf8), createDirectory: true)
        do {
            _ = try FlowLoader.load(bytes: Array(text.utf8), file: directory.flowPath(trial))
        } catch {
            // Another trial may have values that make a valid flow: this one alone fails, with its first problem.
            try fail(job, note: String(error.description.prefix { $0 != "\n" }))
            return
        }
        let run = directory.trialRun(trial)
        Self.waitUntilFree(run)
        active[job] = try TrialProcess.start(job, executable: search.request.executable, flow: directory.flowPath(trial),
                                             run: run.url.path, resume: run.holdsRun,
                                             pauseAfter: job.rung < search.rungs.count - 1 ? search.rungs[job.rung] : nil,
                                             threads: threads, log: directory.logPath(trial), ended: ended)
        let before = records[trial]?.status
        records[trial]?.status = .running
        try writeLedger()
        search.report(before == .pending ? "trial \(trial) started: \(search.describe(search.values[trial - 1]))"
                      : "trial \(trial) \(before == .paused ? "promoted" : "resumed"): continues to epoch \(search.rungs[job.rung])")
    }

    private mutating func end(_ job: AshaScheduler.Job, stopping: Bool) throws {
        guard let ended = active.removeValue(forKey: job), var record = records[job.trial] else { return }
        let process = ended.process
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            // Stopped with the search: the job runs again on --resume.
            if !stopping { try fail(job, note: ended.failureNote(log: search.directory.logPath(job.trial))) }
            return
        }
        let epochs = search.rungs[job.rung], name = search.settings.objective.name
        let metrics = search.directory.trialRun(job.trial).path("metrics.csv")
        let curve = (try? search.objective.curve(metricsAt: metrics)) ?? []
        guard curve.count >= epochs, !curve[epochs - 1].isNaN else {
            try fail(job, note: "\(metrics) holds no \(name) after epoch \(epochs)")
            return
        }
        let value = curve[epochs - 1]
        record.curve = Array(curve.prefix(epochs))
        record.rungObjectives = Array(record.rungObjectives.prefix(job.rung)) + [value]
        record.status = job.rung == search.rungs.count - 1 ? .completed : .paused
        records[job.trial] = record
        scheduler.report(job, objective: value)
        try writeLedger()
        let rung = scheduler.results[job.rung].map(\.objective)
        let place = rung.filter { search.settings.objective.goal == .minimize ? $0 < value : $0 > value }.count + 1
        search.report("trial \(job.trial) after \(epochs) epoch\(epochs == 1 ? "" : "s"): \(name) "
                      + "\(HyperparameterSearch.format(value)), \(Self.ordinal(place)) of \(rung.count) so far")
    }

    private mutating func fail(_ job: AshaScheduler.Job, note: String) throws(Problem) {
        records[job.trial]?.status = .failed
        records[job.trial]?.note = note
        scheduler.report(job, objective: nil)
        try writeLedger()
        search.report("trial \(job.trial) failed: \(note)")
    }

    /// The search was asked to stop: the jobs running get a moment to stop on their own (Ctrl-C
    /// reaches them too, and a second signal would stop them at once), then SIGTERM, which
    /// leaves each with a checkpoint; a job that ended well meanwhile is taken.
    private mutating func stop() throws {
        let deadline = Date().addingTimeInterval(3)
        while active.values.contains(where: { $0.process.isRunning }), Date() < deadline { usleep(50_000) }
        for job in active.values where job.process.isRunning { job.process.terminate() }
        for job in active.values { job.process.waitUntilExit() }
        for job in Array(active.keys) { try end(job, stopping: true) }
        try writeLedger()
    }

    private func writeLedger() throws(Problem) {
        try search.ledger.write(Array(records.values))
    }

    /// Waits, up to a minute, for a trial's directory to be free: on `--resume`, a trial of the
    /// killed search may still be writing its checkpoint (`train --parent-process`).
    private static func waitUntilFree(_ run: RunDirectory) {
        let descriptor = open(run.path(".lock"), O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        for _ in 0..<600 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                flock(descriptor, LOCK_UN)
                return
            }
            usleep(100_000)
        }
    }

    /// `1st`, `2nd`, `3rd`, `11th`.
    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][n % 10] ?? "th"
        return "\(n)\(suffix)"
    }
}
