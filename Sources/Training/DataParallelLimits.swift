import FileFormats
import FlowSpec

/// What training split across processes (`mpirun`) does not do yet, refused before the run
/// directory is made, as bad input: a flow whose training would differ from one process's
/// beyond the order of float sums, or whose run could not be continued.
enum DataParallelLimits {
    /// Throws the first thing `flow` asks that `processes` processes cannot train alike.
    static func check(_ flow: ResolvedFlow, processes: Int, resume: Bool) throws(Problem) {
        guard processes > 1 else { return }
        func refuse(_ what: String) -> Problem {
            Problem(message: "training across \(processes) processes: \(what) is not supported yet",
                    hint: "train it in one process (without mpirun)")
        }
        if resume { throw refuse("--resume") }
        if flow.flow.training.lossWeighting != .fixed {
            // Balancers keep state from each process's own losses and gradients.
            throw refuse("a loss_weighting other than fixed")
        }
        if !flow.flow.training.diagnostics.isOff { throw refuse("diagnostics") }
        // Batch statistics would be each process's part's, and the running ones would drift apart.
        let trainable = flow.branches.filter(\.branch.trainable).flatMap(\.branch.layers) + flow.tasks.flatMap(\.spec.head)
        if trainable.contains(where: hasBatchnorm) { throw refuse("a trainable batchnorm layer") }
    }

    private static func hasBatchnorm(_ layer: Layer) -> Bool {
        switch layer.kind {
        case .batchnorm: true
        case let .residual(block, shortcut): (block + (shortcut ?? [])).contains(where: hasBatchnorm)
        default: false
        }
    }
}
