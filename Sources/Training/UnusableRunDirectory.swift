import FileFormats

/// A run directory a command cannot use as asked: it cannot be made or locked, another training
/// holds it, it holds a run already or none to resume (or to read), or the run it holds was
/// started with another flow, epochs or seed (`ResumePolicy`). Bad input (exit 2); a user reads
/// it as a `Problem` at the directory, with the way forward.
public enum UnusableRunDirectory: Error, Equatable, Sendable, CustomStringConvertible {
    /// The directory, or its `.lock`, cannot be created; `reason` is the system's.
    case cannotCreate(path: String, reason: String)
    /// `runs/<flow name>/` holds a run for each suffix of this second's `stamp`.
    case tooManyRuns(parent: String, stamp: String)
    case notWritable(directory: String)
    /// Another training holds the lock; `holder` is its process id, when it wrote one.
    case inUse(directory: String, holder: String?)
    /// Files, but not a run's: train never writes among a user's files.
    case holdsOtherFiles(directory: String)
    /// A run, and train was not asked to resume it.
    case holdsRun(directory: String)
    case noRunToResume(directory: String)
    /// The run's `flow.yaml` is not the flow as this training would write it from `flowFile`.
    case flowDiffers(flowYAML: String, flowFile: String)
    case epochsDiffer(directory: String, started: Int)
    case seedDiffers(directory: String, started: Int)
    /// For a command reading a trained run: there is no such directory, or no run in it.
    case missing(directory: String)
    case notARun(directory: String)

    public var problem: Problem {
        let (path, message): (String, String) = switch self {
        case let .cannotCreate(path, reason): (path, "cannot be created: \(reason)")
        case let .tooManyRuns(parent, stamp): (parent, "holds 1000 runs started at \(stamp) already; choose a --run-dir")
        case let .notWritable(directory): (directory, "is not writable")
        case let .inUse(directory, holder):
            (directory, "is in use by another training" + (holder.map { " (process \($0))" } ?? "")
                + "; wait for it to end or choose another --run-dir")
        case let .holdsOtherFiles(directory):
            (directory, "is not empty and holds no run; train writes flow.yaml, metrics.csv, report.html, plots/ and "
                + "more there: choose a new or empty --run-dir")
        case let .holdsRun(directory):
            (directory, "holds a run already; add --resume to continue it, or choose another --run-dir")
        case let .noRunToResume(directory): (directory, "holds no run to resume; train without --resume to start one")
        case let .flowDiffers(flowYAML, flowFile):
            (flowYAML, "differs from \(flowFile): a run resumes with the flow it was started with; "
                + "choose another --run-dir for a changed flow")
        case let .epochsDiffer(directory, started):
            (directory, "was started for \(started) epochs; a resumed run keeps them (drop --epochs)")
        case let .seedDiffers(directory, started): (directory, "was started with seed \(started); a resumed run keeps it")
        case let .missing(directory): (directory, "does not exist")
        case let .notARun(directory): (directory, "is not a flowtrain run: it has no state.json")
        }
        return Problem(file: path, message: message)
    }

    public var description: String { problem.description }
}
