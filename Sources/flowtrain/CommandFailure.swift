import ArgumentParser

/// A command's failure with its exit status decided, thrown out of `run()`: `Flowtrain.main`
/// writes the message to standard error (`CommandOutput.end`) and exits with the status.
struct CommandFailure: Error {
    /// What standard error gets.
    var message: String
    var status: ExitCode
    /// Under mpirun: every process failed alike, at the same point, so process 0 alone says so:
    /// a problem they met together before training (`ProblemOnEveryProcess`), a divergence or a
    /// stop they agreed on after a step (`StepAgreement`).
    var onEveryProcess = false

    /// A problem with what the user gave (a flow, a data file, a run directory): exit 2. The
    /// message is the error's description, which for a `Problem`, an `UnusableRunDirectory` and
    /// a `TrainingDivergence` is the problem's one rendering.
    static func badInput(_ error: any Error) -> CommandFailure {
        CommandFailure(message: String(describing: error), status: .badInput)
    }
}

/// The exit codes (docs/commands/README.md): 0 success, 1 a run that failed, 2 bad input; a
/// training stopped by a signal, with a checkpoint, exits 128 + the signal's number
/// (`Interruption.exitStatus`).
extension ExitCode {
    static let runFailed = ExitCode(1)
    static let badInput = ExitCode(2)
}
