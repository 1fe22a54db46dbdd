import FileFormats
import Foundation

/// Which run directories `train` writes into, and when it continues the run one holds: a new or
/// empty directory starts a run; one holding a run is continued only when asked (`--resume`),
/// with the flow, epochs and seed it started with; a directory with other files is never
/// written into. Every refusal is bad input, located at the directory, with the way forward.
public enum ResumePolicy {
    /// Refuses a directory that holds other files and no run (unless resuming, which
    /// `checkpoint` refuses in turn). Called before the lock, so that a refused directory is
    /// left as it was.
    public static func checkWritable(_ run: RunDirectory, resume: Bool) throws(Problem) {
        if !resume, !run.holdsRun, !run.isEmpty {
            throw Problem(file: run.url.path, message: "is not empty and holds no run; train writes flow.yaml, metrics.csv, "
                          + "report.html, plots/ and more there: choose a new or empty --run-dir")
        }
    }

    /// The checkpoint to continue from, or nil to start at epoch 1 (a new run, or a resumed one
    /// stopped before its first checkpoint). `flowText` is `flow.yaml` as this training would
    /// write it, `flowFile` the flow file it was given; `epochs` and `seed` are what the command
    /// line asked for instead of the flow's. Called with the lock held.
    public static func checkpoint(in run: RunDirectory, resume: Bool, flowText: String, flowFile: String,
                                  epochs: Int?, seed: Int?) throws(Problem) -> Checkpoint? {
        guard resume else {
            if run.holdsRun {
                throw Problem(file: run.url.path, message: "holds a run already; add --resume to continue it, "
                              + "or choose another --run-dir")
            }
            return nil
        }
        guard run.holdsRun else {
            throw Problem(file: run.url.path, message: "holds no run to resume; train without --resume to start one")
        }
        let trained = (try? String(contentsOfFile: run.path("flow.yaml"), encoding: .utf8)) ?? ""
        guard trained == flowText else {
            throw Problem(file: run.path("flow.yaml"), message: "differs from \(flowFile): a run resumes with the "
                          + "flow it was started with; choose another --run-dir for a changed flow")
        }
        guard let checkpoint = try Checkpoint.read(from: run) else { return nil }
        if let epochs, epochs != checkpoint.epochs {
            throw Problem(file: run.url.path, message: "was started for \(checkpoint.epochs) epochs; "
                          + "a resumed run keeps them (drop --epochs)")
        }
        if let seed, seed != checkpoint.seed {
            throw Problem(file: run.url.path, message: "was started with seed \(checkpoint.seed); a resumed run keeps it")
        }
        return checkpoint
    }
}
