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
            Reads the flow's data (paths relative to the flow file), trains for the flow's \
            epochs and writes runs/<flow name>/<time>/ (or --run-dir): flow.yaml, \
            model.safetensors (the best validation epoch), model-last.safetensors, state.json, \
            metrics.csv and a TensorBoard event file. See docs/run-directory.md.
            """)

    @OptionGroup var options: FlowOptions

    @Option(help: "The run directory to write (default: runs/<flow name>/<YYYYmmdd-HHMMSS>).")
    var runDir: String?

    @Option(help: "Epochs to train, instead of the flow's.")
    var epochs: Int?

    @Option(help: "Seed of the weights and the shuffling, instead of the flow's.")
    var seed: Int?

    @Option(help: "Threads (default: the machine's cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Continue a run in --run-dir that was stopped.")
    var resume = false

    func validate() throws {
        if let epochs, !(1...100_000).contains(epochs) { throw ValidationError("--epochs must be 1 to 100000") }
        guard (1...EngineThreads.maximum).contains(threads) else {
            throw ValidationError("--threads must be 1 to \(EngineThreads.maximum)")
        }
        if resume { throw ValidationError("--resume is not available yet: runs are checkpointed each epoch, resuming comes next") }
    }

    func run() throws {
        let flow = try options.load()
        EngineThreads.configure(threads)
        do {
            try train(flow)
        } catch {
            CommandOutput.error(error.description)
            Foundation.exit(ExitStatus.runFailed)
        }
    }

    private func train(_ flow: ResolvedFlow) throws(DataError) {
        let epochs = self.epochs ?? flow.flow.training.epochs
        let seed = self.seed ?? flow.flow.training.seed
        let data = try TrainingData.load(flow)
        let run = try RunDirectory.create(flowName: flow.flow.name, explicit: runDir)
        // The flow as run: every default written out, data paths made absolute.
        let base = URL(fileURLWithPath: data.flowDirectory)
        let written = FlowWriter.yaml(flow.flow) { path in
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        try run.write("flow.yaml", Data(written.utf8))
        CommandOutput.error("training \(flow.flow.name): \(data.train.rows) training rows, "
                            + "\(data.valid?.rows ?? 0) validation rows, \(epochs) epochs, writing \(run.url.path)")
        let live = isatty(FileHandle.standardError.fileDescriptor) == 1
        let trainer = Trainer(flow: flow, data: data, run: run, epochs: epochs, seed: seed) { line, isLive in
            if isLive {
                if live { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)) }
            } else {
                FileHandle.standardError.write(Data(((live ? "\r\u{1B}[K" : "") + line + "\n").utf8))
            }
        }
        try trainer.train()
        try RunPlots.writeLearningCurves(run, tasks: flow.tasks)
        try ReportPage.write(run, flow: flow)
        print(run.url.path)
    }
}
