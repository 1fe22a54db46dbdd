import Engine
import ProcessGroups

/// The reduction of a batch split across the processes of a group: each process holds its part
/// of the batch, the tasks' kept rows are summed over the processes before forward (each loss is
/// then the process's share of the batch's mean, `MaskedLoss`), and the shares' gradients are
/// summed after backward, in place, in one collective call over the plan's gradient block. Every
/// process then holds the gradient of the whole batch's loss, and the same clipping and
/// optimiser step keep the weights identical on all of them. Allocates nothing per step.
final class ProcessGroupReduction: GradientReduction {
    private let processes: any ProcessGroup
    private let losses: [any MaskedLoss]
    /// One count per loss, summed in place.
    private let counts: UnsafeMutablePointer<Int>

    init(_ processes: any ProcessGroup, model: CompiledModel) {
        self.processes = processes
        losses = model.tasks.map(\.loss)
        counts = .allocate(capacity: max(losses.count, 1))
    }

    deinit { counts.deallocate() }

    func countRows(batch: Int) {
        for (t, loss) in losses.enumerated() { counts[t] = loss.countKept(batch: batch) }
        processes.allreduceSum(counts, count: losses.count)
        for (t, loss) in losses.enumerated() { loss.rowsAcrossProcesses = counts[t] }
    }

    func reduce(_ plan: Plan) {
        // Frozen parameters come after the trainable ones and have no gradient to share.
        processes.allreduceSum(plan.gradients, count: plan.trainableCount)
    }
}

/// The processes of a group as the parts of every training batch, for the engine's ops that sum
/// over the whole batch (batchnorm's statistics, the loss balancers): their sums are
/// allreduces, and process 0 adds the batch's own terms.
final class ProcessGroupParts: BatchParts {
    private let processes: any ProcessGroup

    init(_ processes: any ProcessGroup) { self.processes = processes }

    var addsBatchTerms: Bool { processes.isFirst }
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) { processes.allreduceSum(values, count: count) }
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int) { processes.allreduceSum(values, count: count) }
}
