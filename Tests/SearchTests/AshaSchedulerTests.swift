import Testing
@testable import Search

/// The scheduler's promotions on scripted objectives, against schedules worked out by hand
/// (each step's reasoning in the comments).
struct AshaSchedulerTests {
    typealias Job = AshaScheduler.Job

    @Test func rungsGrowByTheReductionUpToTheLastEpoch() {
        #expect(AshaScheduler.rungs(minEpochs: 1, reduction: 3, epochs: 8) == [1, 3, 8])
        #expect(AshaScheduler.rungs(minEpochs: 1, reduction: 3, epochs: 9) == [1, 3, 9])
        #expect(AshaScheduler.rungs(minEpochs: 2, reduction: 2, epochs: 8) == [2, 4, 8])
        #expect(AshaScheduler.rungs(minEpochs: 1, reduction: 3, epochs: 27) == [1, 3, 9, 27])
        #expect(AshaScheduler.rungs(minEpochs: 8, reduction: 3, epochs: 8) == [8])
    }

    /// Objectives after 1 epoch; each later rung is 0.05 better, except trial 8, which falls
    /// behind at 3 epochs (0.18).
    static let firstRung: [Int: Double] = [1: 0.50, 2: 0.90, 3: 0.30, 4: 0.80, 5: 0.20, 6: 0.70, 7: 0.60, 8: 0.10, 9: 0.40]

    static func objective(_ job: Job) -> Double {
        if job.trial == 8, job.rung == 1 { return 0.18 }
        return (firstRung[job.trial] ?? .nan) - 0.05 * Double(job.rung)
    }

    /// One worker, 9 trials, η = 3, rungs at 1, 3 and 9 epochs:
    ///  1–3. trials 1, 2, 3 start (a rung of n promotes its best ⌊n/3⌋: none before 3 results);
    ///  4. rung 0 has 3 results, its best (3, 0.30) goes up: 3 to rung 1 (0.25);
    ///  5. rung 1 has 1 result (promotes none), rung 0's best is up already: trial 4 starts (0.80);
    ///  6. still ⌊4/3⌋ = 1, taken: trial 5 starts (0.20);
    ///  7. rung 0's best is now 5 (⌊5/3⌋ = 1): 5 to rung 1 (0.15);
    ///  8–10. nothing to promote (6 and 7 results keep 5 and 3 on top): trials 6, 7, 8 start;
    ///  11. 8 results, best two 8 (0.10) and 5: 8 to rung 1 (0.18);
    ///  12. rung 1 has 3 results, its best (5, 0.15) goes up: 5 to rung 2, the last (0.10);
    ///  13. every promotable trial is up: trial 9 starts (0.40); rung 0's best three (8, 5, 3) are up;
    ///  14. nothing left: the search is over.
    @Test func oneWorkerFollowsTheHandWorkedSchedule() {
        var scheduler = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...9), goal: .minimize)
        var jobs: [Job] = []
        while let job = scheduler.next() {
            jobs.append(job)
            scheduler.report(job, objective: Self.objective(job))
        }
        let expected = [Job(trial: 1, rung: 0), Job(trial: 2, rung: 0), Job(trial: 3, rung: 0), Job(trial: 3, rung: 1),
                        Job(trial: 4, rung: 0), Job(trial: 5, rung: 0), Job(trial: 5, rung: 1), Job(trial: 6, rung: 0),
                        Job(trial: 7, rung: 0), Job(trial: 8, rung: 0), Job(trial: 8, rung: 1), Job(trial: 5, rung: 2),
                        Job(trial: 9, rung: 0)]
        #expect(jobs == expected, "\(jobs)")
        // 9 first rungs of 1 epoch, 3 second rungs of 2 more, 1 last rung of 6 more: 21 epochs, not 81.
        #expect(jobs.map { [1, 2, 6][$0.rung] }.reduce(0, +) == 21)
        #expect(scheduler.running.isEmpty)
        #expect(scheduler.results[2].map(\.trial) == [5])
    }

    /// Two workers, 6 trials, η = 2, rungs at 1, 2 and 4 epochs, results in a scripted order:
    /// a worker whose job ends starts what is promotable or a new trial at once, never waiting
    /// for the other's result.
    @Test func twoWorkersNeverWaitForARungToFill() {
        var scheduler = AshaScheduler(rungs: [1, 2, 4], reduction: 2, trials: Array(1...6), goal: .minimize)
        var handedOut = [scheduler.next(), scheduler.next()]
        // (the job that ends, its objective) in the order they end; after each, the freed worker asks for a job.
        let script: [(Job, Double)] = [
            (Job(trial: 2, rung: 0), 0.5),   // ⌊1/2⌋ = 0: trial 3 starts though trial 1 runs on
            (Job(trial: 3, rung: 0), 0.3),   // ⌊2/2⌋ = 1, best 3: 3 to rung 1
            (Job(trial: 1, rung: 0), 0.9),   // best of 3 is 3, up already: trial 4 starts
            (Job(trial: 3, rung: 1), 0.25),  // rung 1 promotes none of 1; rung 0's 1 best is up: trial 5 starts
            (Job(trial: 4, rung: 0), 0.1),   // rung 0's best 2 of 4: 4 and 3; 4 to rung 1
            (Job(trial: 5, rung: 0), 0.6),   // nothing new: trial 6 starts
            (Job(trial: 4, rung: 1), 0.05),  // rung 1's best 1 of 2 is 4: 4 to rung 2
            (Job(trial: 6, rung: 0), 0.7),   // rung 0's best 3 of 6: 4, 3 and 2; 2 to rung 1
            (Job(trial: 4, rung: 2), 0.02),  // nothing promotable, every trial started: the worker stays idle
            (Job(trial: 2, rung: 1), 0.4),   // rung 1's best 1 of 3 is 4, up already: over
        ]
        for (job, objective) in script {
            #expect(scheduler.running.contains(job), "\(job) was not running")
            scheduler.report(job, objective: objective)
            handedOut.append(scheduler.next())
        }
        let expected: [Job?] = [Job(trial: 1, rung: 0), Job(trial: 2, rung: 0), Job(trial: 3, rung: 0), Job(trial: 3, rung: 1),
                                Job(trial: 4, rung: 0), Job(trial: 5, rung: 0), Job(trial: 4, rung: 1), Job(trial: 6, rung: 0),
                                Job(trial: 4, rung: 2), Job(trial: 2, rung: 1), nil, nil]
        #expect(handedOut == expected, "\(handedOut)")
        #expect(scheduler.running.isEmpty)
    }

    /// Higher is better under `maximize`: the same results mirrored give the same schedule.
    @Test func maximizingMirrorsMinimizing() {
        var scheduler = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...9), goal: .maximize)
        var jobs: [Job] = []
        while let job = scheduler.next() {
            jobs.append(job)
            scheduler.report(job, objective: -Self.objective(job))
        }
        #expect(jobs.filter { $0.rung > 0 }.map(\.trial) == [3, 5, 8, 5])
    }

    /// A failed trial is never ranked nor promoted: with trial 3 failing, rung 0's first best is
    /// 1. Four trials are too few for η = 3 to promote anything from rung 1 (⌊1/3⌋ = 0): once
    /// nothing else can run, its best goes to the last rung, so that one trial trains every epoch.
    @Test func aFailedTrialIsNeitherRankedNorPromoted() {
        var scheduler = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...4), goal: .minimize)
        var jobs: [Job] = []
        while let job = scheduler.next() {
            jobs.append(job)
            scheduler.report(job, objective: job.trial == 3 ? nil : Self.objective(job))
        }
        #expect(scheduler.failed == [3])
        #expect(jobs == [Job(trial: 1, rung: 0), Job(trial: 2, rung: 0), Job(trial: 3, rung: 0), Job(trial: 4, rung: 0),
                         Job(trial: 1, rung: 1), Job(trial: 1, rung: 2)], "\(jobs)")
    }

    /// The finishing rule waits for the jobs running: with one running, nothing is handed out.
    @Test func theFinishingRuleWaitsForRunningJobs() {
        var scheduler = AshaScheduler(rungs: [1, 3], reduction: 3, trials: [1, 2], goal: .minimize)
        let first = scheduler.next(), second = scheduler.next()
        scheduler.report(Job(trial: 2, rung: 0), objective: 0.2)
        #expect(scheduler.next() == nil)
        scheduler.report(Job(trial: 1, rung: 0), objective: 0.1)
        #expect([first, second, scheduler.next(), scheduler.next()] == [Job(trial: 1, rung: 0), Job(trial: 2, rung: 0),
                                                                        Job(trial: 1, rung: 1), nil])
    }

    /// A search killed with a job running and restored from what its ledger kept hands out that
    /// job first, then exactly the jobs the uninterrupted search would have.
    @Test(arguments: 1...12)
    func aRestoredSearchContinuesTheSameSchedule(killedAfter: Int) {
        var scheduler = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...9), goal: .minimize)
        var done: [Job] = [], objectives: [Int: [Double]] = [:]
        for _ in 0..<killedAfter {
            guard let job = scheduler.next() else { break }
            done.append(job)
            scheduler.report(job, objective: Self.objective(job))
            objectives[job.trial, default: []].append(Self.objective(job))
        }
        let running = scheduler.next()
        var restored = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...9), goal: .minimize)
        restored.restore(objectives: objectives, failed: [], running: running.map { [$0] } ?? [],
                         started: Set(done.map(\.trial) + (running.map { [$0.trial] } ?? [])).count)
        var rest: [Job] = []
        while let job = restored.next() {
            rest.append(job)
            restored.report(job, objective: Self.objective(job))
        }
        var uninterrupted: [Job] = []
        var original = AshaScheduler(rungs: [1, 3, 9], reduction: 3, trials: Array(1...9), goal: .minimize)
        while let job = original.next() {
            uninterrupted.append(job)
            original.report(job, objective: Self.objective(job))
        }
        #expect(done + rest == uninterrupted, "killed after \(killedAfter): \(done) + \(rest)")
    }
}
