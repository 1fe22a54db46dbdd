import ArgumentParser
import Engine
import FlowSpec
import Foundation
import Report
import Training

/// `flowtrain train FLOW.yaml`: train a flow and write its run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a flow and write its run directory.",
        discussion: """
            Reads the flow's data (paths relative to the flow file) and checks all of it before \
            training (bad input: exit 2, with file:line:field of the first problems). Trains for \
            the flow's epochs and writes runs/<flow name>/<time>/ (or --run-dir): flow.yaml, \
            model.safetensors (the best validation epoch), model-last.safetensors, \
            checkpoint.safetensors, state.json, metrics.csv and a TensorBoard event file. See \
            docs/run-directory.md.

            A checkpoint is written after every epoch. Ctrl-C (or SIGTERM) finishes the current \
            step, writes a checkpoint and exits 130 (143); `--resume` continues a stopped or \
            killed run from its checkpoint and ends exactly as an uninterrupted run would \
            (docs/reliability.md).
            """)

    @OptionGroup var options: FlowOptions

    @Option(help: "The run directory to write: new, empty or a run (default: runs/<flow name>/<YYYYmmdd-HHMMSS> under the current directory).")
    var runDir: String?

    @Option(help: "Epochs to train, instead of the flow's.")
    var epochs: Int?

    @Option(help: "Seed of the weights and the shuffling, instead of the flow's.")
    var seed: Int?

    @OptionGroup var threads: ThreadOptions

    @Flag(help: "Continue the run in --run-dir from its last checkpoint (after Ctrl-C, a kill or a crash).")
    var resume = false

    func validate() throws {
        if let epochs, !(1...100_000).contains(epochs) { throw ValidationError("--epochs must be 1 to 100000") }
        if resume, runDir == nil { throw ValidationError("--resume needs --run-dir: the run directory to continue") }
        // An unset shell variable (`--run-dir "$RUN"`) would otherwise mean the current directory.
        if let runDir, runDir.allSatisfy(\.isWhitespace) {
            throw ValidationError("--run-dir is empty (an unset shell variable?); give a directory, "
                                  + "or leave --run-dir out to write runs/<flow name>/<time>")
        }
    }

    func run() throws {
        let flow = try options.load()
        EngineThreads.configure(threads.count)
        let trainer: Trainer
        do {
            trainer = try prepare(flow)
        } catch {
            CommandOutput.error(error.description)
            Foundation.exit(ExitStatus.badInput)
        }
        let outcome: Trainer.Outcome
        do {
            Interruption.catchFirstSignal()
            outcome = try trainer.train()
            if case .finished = outcome {
                try RunReport.refresh(trainer.run, flow: flow, after: .training)
            }
        } catch {
            let kept = (try? Checkpoint.read(from: trainer.run)).flatMap { $0 }
            CommandOutput.error(error.description + (kept.map { "\nthe last checkpoint (epoch \($0.epoch)) is kept" } ?? ""))
            Foundation.exit(ExitStatus.runFailed)
        }
        switch outcome {
        case .finished:
            print(trainer.run.url.path)
        case let .interrupted(epoch, batches):
            CommandOutput.error("stopped at epoch \(epoch), batch \(batches), with a checkpoint; continue with:\n"
                                + "  flowtrain train \(options.flow) --run-dir \(trainer.run.url.path) --resume")
            Foundation.exit(Interruption.exitStatus)
        }
    }

    /// Everything before the first step, where a problem is bad input: the data read and checked
    /// in full, the run directory made and locked, and for `--resume` its checkpoint read.
    private func prepare(_ flow: ResolvedFlow) throws(DataError) -> Trainer {
        let reading = Date()
        let data = try TrainingData.load(flow)
        let readSeconds = Date().timeIntervalSince(reading)
        // Before the run directory is made, so that a model too large for the machine leaves nothing.
        try ModelMemory.check(flow, facts: data.statistics.facts, batch: min(flow.flow.training.batchSize, data.train.rows))
        let run = try RunDirectory.create(flowName: flow.flow.name, explicit: runDir)
        // Checked before the lock, so that a refused directory is left as it was.
        if !resume, !run.holdsRun, !run.isEmpty {
            throw DataError(file: run.url.path, message: "is not empty and holds no run; train writes flow.yaml, metrics.csv, "
                            + "report.html, plots/ and more there: choose a new or empty --run-dir")
        }
        try run.lock()
        if resume { run.removeLeftoverTemporaryFiles() }
        // The flow as run: every default written out, data paths made absolute.
        let base = URL(fileURLWithPath: data.flowDirectory)
        let written = FlowWriter.yaml(flow.flow) { path in
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        var checkpoint: Checkpoint?
        if resume {
            guard run.holdsRun else {
                throw DataError(file: run.url.path, message: "holds no run to resume; train without --resume to start one")
            }
            let trained = (try? String(contentsOfFile: run.path("flow.yaml"), encoding: .utf8)) ?? ""
            guard trained == written else {
                throw DataError(file: run.path("flow.yaml"), message: "differs from \(options.flow): a run resumes with the "
                                + "flow it was started with; choose another --run-dir for a changed flow")
            }
            checkpoint = try Checkpoint.read(from: run)
            if let checkpoint {
                if let epochs, epochs != checkpoint.epochs {
                    throw DataError(file: run.url.path, message: "was started for \(checkpoint.epochs) epochs; "
                                    + "a resumed run keeps them (drop --epochs)")
                }
                if let seed, seed != checkpoint.seed {
                    throw DataError(file: run.url.path, message: "was started with seed \(checkpoint.seed); a resumed run keeps it")
                }
                try checkpoint.checkSameStatistics(data, run: run)
            }
        } else if run.holdsRun {
            throw DataError(file: run.url.path, message: "holds a run already; add --resume to continue it, "
                            + "or choose another --run-dir")
        }
        if checkpoint == nil, flow.branches.contains(where: { $0.branch.initialWeights != nil }) {
            // Checked here, on a model for one sample, so that a wrong file is bad input (exit 2).
            let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 1, seed: 0)
            try TrunkInitialization.apply(flow, to: model.plan, flowDirectory: data.flowDirectory)
        }
        let epochs = checkpoint?.epochs ?? self.epochs ?? flow.flow.training.epochs
        let seed = checkpoint?.seed ?? self.seed ?? flow.flow.training.seed
        try run.write("flow.yaml", Data(written.utf8))
        let position = checkpoint.map { c in
            c.epoch == epochs ? ", complete already" : ", resuming after epoch \(c.epoch)" + (c.step > 0 ? " and \(c.step) batches" : "")
        } ?? (resume ? ", no checkpoint yet: starting at epoch 1" : "")
        CommandOutput.error("training \(flow.flow.name): \(data.train.rows) training rows, "
                            + "\(data.valid?.rows ?? 0) validation rows (read and encoded in \(String(format: "%.2f", readSeconds)) s), "
                            + "\(epochs) epochs, writing \(run.url.path)\(position)")
        let live = isatty(FileHandle.standardError.fileDescriptor) == 1
        return Trainer(flow: flow, data: data, run: run, epochs: epochs, seed: seed, flowText: written, checkpoint: checkpoint,
                       shouldStop: { Interruption.wasRequested }) { line, isLive in
            if isLive {
                if live { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)) }
            } else {
                FileHandle.standardError.write(Data(((live ? "\r\u{1B}[K" : "") + line + "\n").utf8))
            }
        }
    }
}
