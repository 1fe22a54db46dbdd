import ArgumentParser
import FlowSpec

/// The `flowtrain` command: multi-task training driven by declarative flow files.
@main
struct Flowtrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train multi-task neural networks described by declarative flow files.",
        discussion: """
            A flow file declares inputs, a shared trunk and a tree of tasks with preconditions \
            between them. See docs/flow-format.md for the format.
            """,
        version: FlowtrainVersion.current,
        subcommands: [InitCommand.self, TrainCommand.self, SearchCommand.self, EvalCommand.self, TuneThresholdsCommand.self, CalibrateCommand.self, ExplainCommand.self,
                      PredictCommand.self, EmbedCommand.self, ExportCommand.self, CheckCommand.self, BenchCommand.self, DatasetsCommand.self])

    /// Runs a command. A failure is rendered in one place, `CommandOutput.end`, which maps it to
    /// the contract's exit code; argument-parser then ends the process with that `ExitCode`
    /// (its own mapping would give a bad argument 64, not 2).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: CommandOutput.end(error))
        }
    }
}
