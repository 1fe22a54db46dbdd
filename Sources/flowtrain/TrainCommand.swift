import ArgumentParser
import Engine
import Foundation
import ProcessGroups
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

            --pause-after N stops after epoch N as Ctrl-C would at an epoch's end, and exits 0: the \
            learning-rate schedule stays laid out for all the epochs, so `--resume` (with a later \
            --pause-after, or none) ends exactly as a run never paused (what `flowtrain search` \
            does with its trials).

            Under mpirun, each process reads its share of the data files and trains the rows \
            it holds of every batch; process 0 alone writes the run directory. The processes \
            stop together: after a signal to any of them, at the same step with one checkpoint; \
            after bad data or a divergence, with process 0's message; a process that fails alone \
            ends the job with its rank and reason (docs/distributed.md).
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

    @Option(help: "Stop after this many epochs with a checkpoint, the schedule still laid out for all of them; --resume continues.")
    var pauseAfter: Int?

    // `flowtrain search`'s trials: a search killed at once (kill -9) must not leave them training.
    @Option(help: .hidden)
    var parentProcess: Int32?

    func validate() throws {
        if let epochs, !(1...100_000).contains(epochs) { throw ValidationError("--epochs must be 1 to 100000") }
        if let pauseAfter, !(1...100_000).contains(pauseAfter) { throw ValidationError("--pause-after must be 1 to 100000") }
        if resume, runDir == nil { throw ValidationError("--resume needs --run-dir: the run directory to continue") }
        // An unset shell variable (`--run-dir "$RUN"`) would otherwise mean the current directory.
        if let runDir, runDir.allSatisfy(\.isWhitespace) {
            throw ValidationError("--run-dir is empty (an unset shell variable?); give a directory, "
                                  + "or leave --run-dir out to write runs/<flow name>/<time>")
        }
    }

    func run() throws {
        let processes = ProcessLaunch.group()
        guard processes.size > 1 else { return try train(processes) }
        do { try train(processes) } catch let failure as CommandFailure where failure.onEveryProcess {
            // Every process ends here at the same point (bad data they read together, a divergence
            // or a stop they agreed on): the first says why, and they all wait until it has, so
            // that mpirun, which ends the job when a process exits with a failure, does not cut
            // its message short.
            if processes.isFirst { _ = CommandOutput.end(failure) }
            var done = [0]
            processes.allreduceSum(&done)
            Foundation.exit(failure.status.rawValue)
        } catch {
            // One process's failure ends them all: the others would wait for it in their next step.
            let status = CommandOutput.end(error, from: "process \(processes.rank) of \(processes.size): ")
            processes.abort(status: (status as? ExitCode ?? .runFailed).rawValue)
        }
    }

    private func train(_ processes: any ProcessGroup) throws {
        let flow = try options.load()
        EngineThreads.configure(threads.count)
        let prepared: PreparedRun
        // Process 0 alone shows the progress.
        let report: (String, Bool) -> Void = processes.isFirst ? { CommandOutput.progress($0, live: $1) } : { _, _ in }
        if let parentProcess { ParentWatch.start(parent: parentProcess) }
        do {
            prepared = try PreparedRun(flow, .init(flowFile: options.flow, runDirectory: runDir, epochs: epochs, seed: seed,
                                                   resume: resume),
                                       processes: processes, shouldStop: { Interruption.wasRequested || ParentWatch.parentEnded },
                                       report: report)
        } catch {
            var failure = CommandFailure.badInput(error)
            failure.onEveryProcess = error is ProblemOnEveryProcess
            throw failure
        }
        var trainer = prepared.trainer
        trainer.pauseAfter = pauseAfter
        let outcome: Trainer.Outcome
        do {
            // Every process: they agree after each step whether any was asked to stop.
            Interruption.catchFirstSignal()
            if processes.isFirst { CommandOutput.error(prepared.summary) }
            ParentWatch.trainingStarts()
            outcome = try trainer.train()
            if processes.isFirst, case .finished = outcome { try RunReport.refresh(trainer.run, flow: flow, after: .training) }
        } catch {
            let kept = processes.isFirst ? (try? Checkpoint.read(from: trainer.run)).flatMap { $0 } : nil
            throw CommandFailure(message: String(describing: error) + (kept.map { "\nthe last checkpoint (epoch \($0.epoch)) is kept" } ?? ""),
                                 status: .runFailed, onEveryProcess: error is TrainingDivergence)
        }
        switch outcome {
        case .finished:
            if processes.isFirst { print(trainer.run.url.path) }
        case .paused(let epoch):
            guard processes.isFirst else { return }
            CommandOutput.error("paused after epoch \(epoch) of \(trainer.epochs), with a checkpoint; continue with:\n"
                                + "  flowtrain train \(options.flow) --run-dir \(trainer.run.url.path) --resume")
            print(trainer.run.url.path)
        case let .interrupted(epoch, batches):
            // A process that got no signal itself stopped for another's: as if sent SIGTERM.
            let status = Interruption.wasRequested ? Interruption.exitStatus : 128 + SIGTERM
            throw CommandFailure(message: "stopped at epoch \(epoch), batch \(batches), with a checkpoint; continue with:\n"
                                 + "  flowtrain train \(options.flow) --run-dir \(trainer.run.url.path) --resume",
                                 status: ExitCode(status), onEveryProcess: true)
        }
    }
}
