import FileFormats
import FlowSpec
import Foundation
import ProcessGroups

/// A training ready for its first step: everything before it, where a problem is bad input —
/// the data read and checked in full, the model's memory checked, the run directory made and
/// locked (`ResumePolicy` deciding whether it starts a run or continues one), the flow as run
/// written to it, and for a resumed run its checkpoint read and checked against the data.
/// What comes out is the trainer of the run, and what to say about it.
public struct PreparedRun {
    /// What `train` was asked for beyond the flow.
    public struct Request: Sendable {
        /// The flow file as given (messages name it).
        public var flowFile: String
        /// The run directory to write (nil: `runs/<flow name>/<time>`).
        public var runDirectory: String?
        /// Epochs and seed instead of the flow's.
        public var epochs: Int?
        public var seed: Int?
        /// Continue the run in `runDirectory` from its checkpoint.
        public var resume: Bool

        public init(flowFile: String, runDirectory: String?, epochs: Int?, seed: Int?, resume: Bool) {
            (self.flowFile, self.runDirectory, self.epochs, self.seed, self.resume) = (flowFile, runDirectory, epochs, seed, resume)
        }
    }

    /// The run's trainer: its data, directory, epochs, seed, and checkpoint when it resumes.
    public let trainer: Trainer
    public let resume: Bool
    /// Seconds spent reading and encoding the data.
    public let readSeconds: Double

    /// `shouldStop` and `report` as `Trainer` takes them; `processes`, those training together
    /// (each reads its share of the data; only the first makes and writes the run directory, and
    /// reads the checkpoint of a resumed run, whose position it gives the others).
    /// Throws a `Problem` (the data, the model's size, a file of the run) or an
    /// `UnusableRunDirectory`: bad input either way. A problem before the run directory is made,
    /// every process meets together, and throws it as a `ProblemOnEveryProcess` when there are
    /// several.
    public init(_ flow: ResolvedFlow, _ request: Request, processes: any ProcessGroup = SingleProcess(),
                shouldStop: @escaping () -> Bool, report: @escaping (String, _ live: Bool) -> Void) throws {
        let reading = Date()
        let data = try Self.checkedData(flow, processes: processes)
        readSeconds = Date().timeIntervalSince(reading)
        guard processes.isFirst else {
            // The other processes train alike and write nothing; the directory names only what
            // rank 0 writes, in messages. A resumed run's position comes from rank 0's checkpoint.
            let run = RunDirectory(url: URL(fileURLWithPath: request.runDirectory ?? "runs/\(flow.flow.name)"))
            let checkpoint = Checkpoint.shared(nil, across: processes)
            trainer = Trainer(flow: flow, data: data, run: run,
                              epochs: checkpoint?.epochs ?? request.epochs ?? flow.flow.training.epochs,
                              seed: checkpoint?.seed ?? request.seed ?? flow.flow.training.seed, flowText: "",
                              checkpoint: checkpoint, processes: processes, shouldStop: shouldStop, report: report)
            resume = request.resume
            return
        }
        let run = try RunDirectory.create(flowName: flow.flow.name, explicit: request.runDirectory)
        try ResumePolicy.checkWritable(run, resume: request.resume)
        try run.lock()
        // A resumed run's, or the flow.yaml of a training killed in a directory it started in.
        run.removeLeftoverTemporaryFiles()
        // The flow as run: every default written out, data paths made absolute.
        let base = URL(fileURLWithPath: data.flowDirectory)
        let written = FlowWriter.yaml(flow.flow) { path in
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        let checked = try ResumePolicy.checkpoint(in: run, resume: request.resume, flowText: written,
                                                  flowFile: request.flowFile, epochs: request.epochs, seed: request.seed)
        try checked?.checkSameStatistics(data, run: run)
        if checked == nil, flow.branches.contains(where: { $0.branch.initialWeights != nil }) {
            // Checked here, on a model for one sample, so that a wrong file is bad input.
            let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 1, seed: 0)
            try TrunkInitialization.apply(flow, to: model.plan, flowDirectory: data.flowDirectory)
        }
        try run.write("flow.yaml", Data(written.utf8))
        let checkpoint = Checkpoint.shared(checked, across: processes)
        trainer = Trainer(flow: flow, data: data, run: run, epochs: checkpoint?.epochs ?? request.epochs ?? flow.flow.training.epochs,
                          seed: checkpoint?.seed ?? request.seed ?? flow.flow.training.seed, flowText: written,
                          checkpoint: checkpoint, processes: processes, shouldStop: shouldStop, report: report)
        resume = request.resume
    }

    /// The flow's data, and the model's memory checked with it (before the run directory is made,
    /// so that a model too large for the machine leaves nothing). Every process meets a problem
    /// here together.
    private static func checkedData(_ flow: ResolvedFlow, processes: any ProcessGroup) throws -> TrainingData {
        do {
            let data = try TrainingData.load(flow, processes: processes)
            try ModelMemory.check(flow, facts: data.statistics.facts,
                                  batch: min(flow.flow.training.batchSize, data.train.totalRows))
            return data
        } catch where processes.size > 1 {
            throw ProblemOnEveryProcess(problem: error)
        }
    }

    /// `training NAME: 800 training rows, 100 validation rows (read and encoded in 0.05 s), 20
    /// epochs, writing DIR`, and where a resumed run continues: what `train` says before its
    /// first step.
    public var summary: String {
        let t = trainer
        let position = t.checkpoint.map { c in
            c.epoch == t.epochs ? ", complete already" : ", resuming after epoch \(c.epoch)" + (c.step > 0 ? " and \(c.step) batches" : "")
        } ?? (resume ? ", no checkpoint yet: starting at epoch 1" : "")
        return "training \(t.flow.flow.name): \(t.data.train.totalRows) training rows, \(t.data.valid?.totalRows ?? 0) validation rows "
            + "(read and encoded in \(String(format: "%.2f", readSeconds)) s), \(t.epochs) epochs, writing \(t.run.url.path)\(position)"
    }
}

/// A problem every process of a training met together, at the same point, before the run
/// directory was made (its share of the data, or what the data makes of the flow): the job
/// can end without aborting, the first process saying it.
public struct ProblemOnEveryProcess: Error, CustomStringConvertible {
    public let problem: Problem
    public var description: String { problem.description }
}
