import Foundation

/// Which run directories `train` writes into, and when it continues the run one holds: a new or
/// empty directory starts a run; one holding a run is continued only when asked (`--resume`),
/// with the flow, epochs and seed it started with; a directory with other files is never
/// written into. Every refusal is an `UnusableRunDirectory`: bad input, with the way forward.
public enum ResumePolicy {
    /// Refuses a directory that holds other files and no run (unless resuming, which
    /// `checkpoint` refuses in turn). Called before the lock, so that a refused directory is
    /// left as it was.
    public static func checkWritable(_ run: RunDirectory, resume: Bool) throws(UnusableRunDirectory) {
        if !resume, !run.holdsRun, !run.isEmpty { throw .holdsOtherFiles(directory: run.url.path) }
    }

    /// The checkpoint to continue from, or nil to start at epoch 1 (a new run, or a resumed one
    /// stopped before its first checkpoint). `flowText` is `flow.yaml` as this training would
    /// write it, `flowFile` the flow file it was given; `epochs` and `seed` are what the command
    /// line asked for instead of the flow's. Called with the lock held. Throws an
    /// `UnusableRunDirectory`, or the `Problem` of a checkpoint that cannot be read.
    public static func checkpoint(in run: RunDirectory, resume: Bool, flowText: String, flowFile: String,
                                  epochs: Int?, seed: Int?) throws -> Checkpoint? {
        guard resume else {
            if run.holdsRun { throw UnusableRunDirectory.holdsRun(directory: run.url.path) }
            return nil
        }
        guard run.holdsRun else { throw UnusableRunDirectory.noRunToResume(directory: run.url.path) }
        let trained = (try? String(contentsOfFile: run.path("flow.yaml"), encoding: .utf8)) ?? ""
        guard trained == flowText else {
            throw UnusableRunDirectory.flowDiffers(flowYAML: run.path("flow.yaml"), flowFile: flowFile)
        }
        guard let checkpoint = try Checkpoint.read(from: run) else { return nil }
        if let epochs, epochs != checkpoint.epochs {
            throw UnusableRunDirectory.epochsDiffer(directory: run.url.path, started: checkpoint.epochs)
        }
        if let seed, seed != checkpoint.seed {
            throw UnusableRunDirectory.seedDiffers(directory: run.url.path, started: checkpoint.seed)
        }
        return checkpoint
    }
}
