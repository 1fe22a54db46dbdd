import ArgumentParser
import FlowSpec
import Foundation

/// The `flowtrain` command: multi-task training driven by declarative flow files.
@main
struct Flowtrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train multi-task neural networks described by declarative flow files.",
        discussion: """
            A flow file declares inputs, a shared trunk and a tree of tasks with preconditions \
            between them. See docs/flow-format.md for the format.
            """,
        version: "0.1.0",
        subcommands: [TrainCommand.self, EvalCommand.self, TuneThresholdsCommand.self, CalibrateCommand.self, ExplainCommand.self,
                      PredictCommand.self, CheckCommand.self, BenchCommand.self, DatasetsCommand.self])

    /// Runs a command and maps every failure to the contract's exit codes: 2 for bad input
    /// (flow files, arguments), 1 for a run that failed; errors go to standard error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let problems as DiagnosticList {
            CommandOutput.report(problems)
            Foundation.exit(ExitStatus.badInput)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help and --version print and exit 0
            }
            CommandOutput.error(fullMessage(for: error))
            Foundation.exit(code == .validationFailure ? ExitStatus.badInput : ExitStatus.runFailed)
        }
    }
}

/// The exit codes (docs/commands/README.md): 0 success, 1 a run that failed, 2 bad input; a
/// training stopped by a signal, with a checkpoint, exits 128 + the signal's number
/// (`Interruption.exitStatus`).
enum ExitStatus {
    static let runFailed: Int32 = 1
    static let badInput: Int32 = 2
}
