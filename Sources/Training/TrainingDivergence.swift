import FileFormats

/// A training whose numbers stopped being finite: at a step (a task's loss, the total loss or a
/// gradient), after which the weights cannot be trusted, or in the selection loss of every
/// epoch, so that none can be chosen as the best. The run fails (exit 1) with its last
/// checkpoint kept; a user reads it as a `Problem` at the run directory.
public enum TrainingDivergence: Error, Equatable, Sendable, CustomStringConvertible {
    /// `epoch` and `batch` count from 1; `cause` says what was not finite, e.g. `the loss of
    /// task 'a' is nan`.
    case atStep(run: String, epoch: Int, batch: Int, cause: String)
    /// The loss of `split` (validation, or training without one) was not finite in any epoch;
    /// `unrankedTasks` says which tasks' last loss was not (`'a' is nan`); `keptEpoch` is the
    /// epoch whose weights model.safetensors holds.
    case noFiniteEpoch(run: String, split: String, unrankedTasks: [String], keptEpoch: Int)

    public var problem: Problem {
        switch self {
        case let .atStep(run, epoch, batch, cause):
            return Problem(file: run, message: "training diverged at epoch \(epoch), batch \(batch): \(cause)")
        case let .noFiniteEpoch(run, split, unrankedTasks, keptEpoch):
            return Problem(file: run, message: "the \(split) loss was not finite in any epoch"
                           + (unrankedTasks.isEmpty ? "" : " (the last epoch's loss of task \(unrankedTasks.joined(separator: ", task ")))")
                           + ", so no epoch could be chosen as the best: model.safetensors holds epoch \(keptEpoch)'s weights; "
                           + "look for extreme values in the \(split) data")
        }
    }

    public var description: String { problem.description }
}
