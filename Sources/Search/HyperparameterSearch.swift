import FileFormats
import FlowSpec
import Foundation
import ProcessGroups
import Training

/// `flowtrain search`: the trials of a flow's `search:` section, each a `flowtrain train`
/// process training a copy of the flow with the trial's values written in, `parallel` at a
/// time, scheduled by `AshaScheduler` (one rung, every trial to the end, under `random` and
/// `grid`); then `trials.csv`, `best.yaml` and `search.html` (docs/commands/search.md).
///
/// A job trains its trial to the end of a rung with `train --pause-after` (the trial's schedule
/// laid out for every epoch from the start, so a trial paused and promoted trains exactly as
/// one never paused) and the objective is read from the trial's `metrics.csv` when the process
/// has ended. `trials.csv` is rewritten after every start and end: `--resume` reads it back,
/// reruns the jobs that were running (each from its run's checkpoint) and never a finished one.
///
/// Under mpirun each process runs the trials whose number modulo the processes is its rank,
/// with a scheduler of its own (under asha, a bracket per process), keeping its part in
/// `trials-rank<r>.csv`; at the end the first gathers every part into `trials.csv` and writes
/// the rest.
public struct HyperparameterSearch {
    /// What `search` was asked for beyond the flow.
    public struct Request: Sendable {
        public var runDirectory: String?
        public var trials: Int?
        /// Jobs at a time (in each process, under mpirun).
        public var parallel: Int
        public var seed: Int?
        /// Threads in all, shared out between the jobs.
        public var threads: Int
        public var resume: Bool
        /// The `flowtrain` executable the trials run.
        public var executable: URL

        public init(runDirectory: String?, trials: Int?, parallel: Int, seed: Int?, threads: Int, resume: Bool, executable: URL) {
            (self.runDirectory, self.trials, self.parallel) = (runDirectory, trials, parallel)
            (self.seed, self.threads, self.resume, self.executable) = (seed, threads, resume, executable)
        }
    }

    /// How a search ended.
    public enum Outcome: Sendable {
        /// Every trial done; the best (nil when none trained every epoch).
        case finished(best: TrialRecord?)
        /// Stopped by `shouldStop`: the jobs that were running continue on `--resume`.
        case interrupted
    }

    public let flow: ResolvedFlow
    public let settings: SearchSettings
    public let request: Request
    public let directory: SearchDirectory
    public let rungs: [Int]
    public let objective: TrialObjective
    /// Every trial's values, trial n at n - 1.
    public let values: [[TrialValue]]
    let processes: any ProcessGroup
    let shouldStop: () -> Bool
    let report: (String) -> Void
    /// The flow written out in full with absolute data paths: each trial's flow is this with
    /// its values in place.
    let tree: FlowTree

    /// Checks what the search needs before anything runs (the objective's metric, the trials a
    /// grid has) and opens the search's directory. Throws a `Problem` or an
    /// `UnusableRunDirectory`: bad input either way.
    public init(_ flow: ResolvedFlow, _ request: Request, processes: any ProcessGroup = SingleProcess(),
                shouldStop: @escaping () -> Bool, report: @escaping (String) -> Void) throws {
        guard let settings = flow.flow.search else {
            throw Problem(file: flow.flow.file, message: "has no search: section; docs/flow-format.md, \"search\", says what it holds")
        }
        (self.flow, self.settings, self.request, self.processes) = (flow, settings, request, processes)
        (self.shouldStop, self.report) = (shouldStop, report)
        objective = try TrialObjective(settings.objective, flow: flow)
        let combinations = TrialSampler.combinations(settings.parameters)
        let count = request.trials ?? settings.trials ?? (settings.algorithm == .grid ? combinations : SearchSettings.defaultTrials)
        if settings.algorithm == .grid, count > combinations {
            throw Problem(file: flow.flow.file, message: "grid search has \(combinations) combinations, fewer than the \(count) "
                          + "trials asked for")
        }
        let seed = request.seed ?? settings.seed
        values = TrialSampler.trials(settings, count: count, seed: seed)
        let epochs = flow.flow.training.epochs
        rungs = settings.algorithm == .asha
            ? AshaScheduler.rungs(minEpochs: settings.minEpochs, reduction: settings.reduction, epochs: epochs) : [epochs]
        let base = URL(fileURLWithPath: flow.flow.file).deletingLastPathComponent().standardizedFileURL
        tree = try FlowTree(flow.flow) { path in
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        let text = (try? String(contentsOfFile: flow.flow.file, encoding: .utf8)) ?? ""
        let manifest = SearchDirectory.Manifest(flow: text, seed: seed, trials: count, processes: processes.size)
        let opened: Result<SearchDirectory, any Error>
        do {
            opened = .success(try SearchDirectory.open(flowName: flow.flow.name, explicit: request.runDirectory, manifest: manifest,
                                                       resume: request.resume, isFirst: processes.isFirst))
        } catch { opened = .failure(error) }
        // Every process goes on, or none: the others would wait for it at the end.
        let failedSomewhere = processes.size > 1 && processes.allgather((try? opened.get()) == nil ? 1 : 0).contains(1)
        directory = try opened.get()
        if failedSomewhere { throw Problem(message: "another process of the search could not use its directory") }
        if processes.isFirst { try directory.start(manifest) }
    }

    /// The trials this process runs.
    var ownTrials: [Int] { Array(1...values.count).filter { ($0 - 1) % processes.size == processes.rank } }

    var ledger: SearchLedger {
        SearchLedger(directory: directory.run, fileName: processes.size == 1 ? "trials.csv" : "trials-rank\(processes.rank).csv",
                     parameters: settings.parameters.map(\.path), rungs: rungs, objective: settings.objective.name)
    }

    /// Runs the trials to the end, or until `shouldStop`.
    public func run() throws -> Outcome {
        let started = Date()
        var state = try SearchState(self)
        let perJob = max(1, request.threads / request.parallel)
        report("search \(flow.flow.name): \(settings.algorithm.rawValue), \(values.count) trials"
               + (processes.size > 1 ? " (\(ownTrials.count) in process \(processes.rank))" : "")
               + (rungs.count > 1 ? ", rungs after \(Self.list(rungs.map(String.init))) epochs (η \(settings.reduction))" : "")
               + ", \(request.parallel) at a time with \(perJob) thread\(perJob == 1 ? "" : "s") each, \(settings.objective.name) "
               + "\(settings.objective.goal == .minimize ? "minimised" : "maximised"), writing \(directory.run.url.path)"
               + (state.resumed ? ", resuming" : ""))
        guard try state.runJobs(parallel: request.parallel, threads: perJob) else { return .interrupted }
        var records = try gathered(state.finished())
        let best = Self.best(records, goal: settings.objective.goal)
        guard processes.isFirst else { return .finished(best: best) }
        records.sort { $0.trial < $1.trial }
        if processes.size > 1 {
            try SearchLedger(directory: directory.run, parameters: settings.parameters.map(\.path), rungs: rungs,
                             objective: settings.objective.name).write(records)
        }
        if let best { try directory.run.write("best.yaml", Data(try BestFlow.text(best, of: self).utf8)) }
        try directory.run.write("search.html", Data(SearchPage.html(self, records: records, best: best,
                                                                    seconds: Date().timeIntervalSince(started)).utf8))
        let counts = TrialRecord.Status.allCases.compactMap { status -> String? in
            let n = records.filter { $0.status == status }.count
            return n == 0 ? nil : "\(n) \(status.rawValue)"
        }
        report("\(records.count) trials (\(counts.joined(separator: ", "))) in \(Trainer.duration(Date().timeIntervalSince(started)))")
        if let best {
            report("best: trial \(best.trial), \(settings.objective.name) \(Self.format(best.lastObjective)) after \(best.curve.count) "
                   + "epochs: \(describe(best.values)); its flow is \(directory.run.path("best.yaml"))")
        }
        return .finished(best: best)
    }

    /// Under mpirun, every process's records, gathered on the first (the others get their own back).
    private func gathered(_ own: [TrialRecord]) throws(Problem) -> [TrialRecord] {
        guard processes.size > 1 else { return own }
        let parts = processes.allgather(bytes: Array(ledger.text(own).utf8))
        guard processes.isFirst else { return own }
        var records: [TrialRecord] = []
        for (rank, bytes) in parts.enumerated() {
            let part = SearchLedger(directory: directory.run, fileName: "trials-rank\(rank).csv",
                                    parameters: settings.parameters.map(\.path), rungs: rungs, objective: settings.objective.name)
            for (trial, row) in try part.rows(bytes) where (1...values.count).contains(trial) {
                records.append(TrialRecord(trial: trial, values: values[trial - 1], row: row))
            }
        }
        return records
    }

    /// The completed trial with the best objective (the lower trial number on a tie).
    static func best(_ records: [TrialRecord], goal: SearchSettings.Goal) -> TrialRecord? {
        records.filter { $0.status == .completed && $0.lastObjective.map { !$0.isNaN } == true }.min { a, b in
            let x = a.lastObjective ?? .nan, y = b.lastObjective ?? .nan
            if x != y { return goal == .minimize ? x < y : x > y }
            return a.trial < b.trial
        }
    }

    /// The trial's flow file: the flow with its values in place.
    func flowText(_ trial: Int) -> String {
        var trialTree = tree
        for (parameter, value) in zip(settings.parameters, values[trial - 1]) {
            trialTree = trialTree.replacing(parameter.steps, with: value.node)
        }
        return "# Trial \(trial) of flowtrain search over \(flow.flow.file): \(describe(values[trial - 1]))\n" + trialTree.yaml
    }

    /// `train.optimizer.lr=0.0023 train.loss_weighting=dwa`.
    func describe(_ values: [TrialValue]) -> String {
        zip(settings.parameters, values).map { "\($0.path)=\($1.text)" }.joined(separator: " ")
    }

    static func format(_ value: Double?) -> String { value.map { String(format: "%.5g", $0) } ?? "–" }

    /// `1, 3 and 9`.
    static func list(_ items: [String]) -> String {
        items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }
}
