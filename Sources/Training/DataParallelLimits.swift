import FileFormats

/// What training split across processes (`mpirun`) does not do, refused before the run
/// directory is made, as bad input: a training whose steps would differ from one process's
/// beyond the order of float sums.
enum DataParallelLimits {
    /// Throws when `processes` processes cannot train batches of `batchSize` rows alike.
    static func check(processes: Int, batchSize: Int) throws(Problem) {
        guard processes > 1 else { return }
        if batchSize < processes {
            throw Problem(message: "training across \(processes) processes: a batch of \(batchSize) rows leaves a "
                          + "process without any", hint: "use a batch_size of at least \(processes), or fewer processes")
        }
    }
}
