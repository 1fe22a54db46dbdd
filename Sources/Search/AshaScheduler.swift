/// Asynchronous successive halving (Li et al., 2018, "A System for Massively Parallel
/// Hyperparameter Tuning"), as a state machine with no processes in it: a worker asks `next()`
/// for a job, trains it, and `report`s the objective; no worker waits for a rung to fill.
///
/// Rung k trains a trial to `rungs[k]` epochs (`min_epochs`·η^k, the last rung the flow's
/// epochs). `next()` looks from the highest rung down for a trial in the best ⌊n/η⌋ of the n
/// results its rung has so far that has not gone up yet, and promotes the first it finds (the
/// best of its rung); otherwise it starts the next trial at rung 0; otherwise there is nothing
/// to do until a result comes (but see `finishingJob`). With one rung (`random`, `grid`) every
/// trial trains to the end.
/// Ties go to the lower trial number, so that one sequence of results always gives one schedule.
public struct AshaScheduler: Sendable {
    /// Train `trial` until `rungs[rung]` epochs (from where its last job left it).
    public struct Job: Equatable, Hashable, Sendable, CustomStringConvertible {
        public var trial: Int
        public var rung: Int

        public init(trial: Int, rung: Int) { (self.trial, self.rung) = (trial, rung) }

        public var description: String { "trial \(trial) to rung \(rung)" }
    }

    /// Epochs at the end of each rung, increasing; the last is the flow's epochs.
    public let rungs: [Int]
    public let reduction: Int
    /// The trials this scheduler runs, in the order it starts them.
    public let trials: [Int]
    public let goal: Goal

    /// Whether lower or higher objectives are better.
    public enum Goal: Sendable { case minimize, maximize }

    /// Per rung, the results reported there, in the order they came.
    public private(set) var results: [[(trial: Int, objective: Double)]]
    /// Per rung, the trials promoted out of it.
    public private(set) var promoted: [Set<Int>]
    public private(set) var failed: Set<Int> = []
    /// Jobs handed out and not reported yet.
    public private(set) var running: Set<Job> = []
    /// Trials started so far (a prefix of `trials`).
    public private(set) var started = 0
    /// Jobs to hand out before any other: those a killed search had running (`restore`).
    private var unfinished: [Job] = []

    public init(rungs: [Int], reduction: Int, trials: [Int], goal: Goal) {
        self.rungs = rungs
        self.reduction = reduction
        self.trials = trials
        self.goal = goal
        results = Array(repeating: [], count: rungs.count)
        promoted = Array(repeating: [], count: rungs.count)
    }

    /// The rungs of a search: `minEpochs`·η^k below `epochs`, then `epochs`.
    public static func rungs(minEpochs: Int, reduction: Int, epochs: Int) -> [Int] {
        var rungs: [Int] = []
        var epoch = minEpochs
        while epoch < epochs {
            rungs.append(epoch)
            let (next, overflow) = epoch.multipliedReportingOverflow(by: reduction)
            if overflow { break }
            epoch = next
        }
        return rungs + [epochs]
    }

    /// The next job, or nil when none can start now (every trial started, none promotable):
    /// then wait for a running job's result, or, with none running, the search is over.
    public mutating func next() -> Job? {
        if !unfinished.isEmpty {
            let job = unfinished.removeFirst()
            running.insert(job)
            return job
        }
        for rung in stride(from: rungs.count - 2, through: 0, by: -1) {
            let best = ranked(rung).prefix(results[rung].count / reduction)
            if let candidate = best.first(where: { !promoted[rung].contains($0.trial) }) {
                promoted[rung].insert(candidate.trial)
                let job = Job(trial: candidate.trial, rung: rung + 1)
                running.insert(job)
                return job
            }
        }
        if started < trials.count {
            let job = Job(trial: trials[started], rung: 0)
            started += 1
            running.insert(job)
            return job
        }
        return finishingJob()
    }

    /// With too few trials for η (3 trials, η = 3, three rungs), the rule above would end the
    /// search with no trial trained to the last rung: once nothing runs and nothing else can,
    /// the best trial of the highest rung reached goes up, until one has trained every epoch.
    private mutating func finishingJob() -> Job? {
        guard running.isEmpty, results[rungs.count - 1].isEmpty else { return nil }
        for rung in stride(from: rungs.count - 2, through: 0, by: -1) {
            guard let best = ranked(rung).first(where: { !promoted[rung].contains($0.trial) }) else { continue }
            promoted[rung].insert(best.trial)
            let job = Job(trial: best.trial, rung: rung + 1)
            running.insert(job)
            return job
        }
        return nil
    }

    /// The end of `job`: its trial's objective after `rungs[job.rung]` epochs, or nil when it
    /// failed (a failed trial is never promoted, nor ranked).
    public mutating func report(_ job: Job, objective: Double?) {
        running.remove(job)
        guard let objective, !objective.isNaN else {
            failed.insert(job.trial)
            return
        }
        results[job.rung].append((job.trial, objective))
    }

    /// The state a killed search had reached, from what its ledger kept: each trial's
    /// objectives by rung (every rung up to the last it finished), the failed ones, and the
    /// jobs that were running (handed out first by `next()`). Trials start in order, so those
    /// started are the first `started`.
    public mutating func restore(objectives: [Int: [Double]], failed: Set<Int>, running: [Job], started: Int) {
        for (trial, values) in objectives.sorted(by: { $0.key < $1.key }) {
            for (rung, value) in values.enumerated() where rung < rungs.count {
                results[rung].append((trial, value))
                if rung > 0 { promoted[rung - 1].insert(trial) }
            }
        }
        for job in running where job.rung > 0 { promoted[job.rung - 1].insert(job.trial) }
        self.failed = failed
        unfinished = running.sorted { ($0.rung, $0.trial) > ($1.rung, $1.trial) }
        self.started = min(started, trials.count)
    }

    /// A rung's results, best first.
    private func ranked(_ rung: Int) -> [(trial: Int, objective: Double)] {
        results[rung].sorted { a, b in
            if a.objective != b.objective { return goal == .minimize ? a.objective < b.objective : a.objective > b.objective }
            return a.trial < b.trial
        }
    }
}
