import Engine
import FileFormats
import ProcessGroups

/// Every process of a training continues from process 0's checkpoint, which it alone reads (the
/// others may run on hosts without the run directory): its counters reach every process before
/// the trainer is made (`shared`), its tensors once the model is compiled (`shareTrainingState`).
///
/// The checkpoint holds nothing of one process alone, so a run continues under any number of
/// processes: the weights, optimiser state, running statistics and balancer state are the same
/// on every process; within an epoch, its progress and per-sample losses are every process's
/// gathered; dropout and augmentation draw per step from the seed, the rank and the step's
/// place.
extension Checkpoint {
    /// Process 0's checkpoint on every process: on process 0, `checkpoint` itself; on the others,
    /// one with its counters and, within an epoch, its sums alone (the predictions so far are
    /// process 0's to continue), whose `restore` leaves the plan to `shareTrainingState`. Nil on
    /// every process when process 0 has none.
    static func shared(_ checkpoint: Checkpoint?, across processes: any ProcessGroup) -> Checkpoint? {
        guard processes.size > 1 else { return checkpoint }
        var counters = [Int](repeating: 0, count: 8)
        var sums = [Double](repeating: 0, count: 2)
        if let c = checkpoint {
            counters = [1, c.epoch, c.step, c.epochs, c.seed, c.bestEpoch, c.seen, c.taskLosses.count]
            sums = [c.bestLoss, c.trainLoss]
        }
        processes.broadcast(&counters, from: 0)
        processes.broadcast(&sums, from: 0)
        var taskSums = checkpoint?.taskLosses.map(\.loss) ?? Array(repeating: 0, count: counters[7])
        var taskCounts = checkpoint?.taskLosses.map(\.count) ?? Array(repeating: 0, count: counters[7])
        processes.broadcast(&taskSums, from: 0)
        processes.broadcast(&taskCounts, from: 0)
        guard !processes.isFirst else { return checkpoint }
        guard counters[0] == 1 else { return nil }
        var shared = Checkpoint(epoch: counters[1], step: counters[2], epochs: counters[3], seed: counters[4],
                                bestEpoch: counters[5], bestLoss: sums[0],
                                metrics: FilePrefix(of: CSVWriter(header: [])), flow: "", statistics: [:])
        (shared.trainLoss, shared.seen) = (sums[1], counters[6])
        shared.taskLosses = zip(taskSums, taskCounts).map { (loss: $0, count: $1) }
        return shared
    }
}

extension ProcessGroup {
    /// Process 0's weights, running statistics, balancer state and optimiser state on every
    /// process: the same seed draws the same first weights, but a checkpoint or the initial
    /// weights a flow names are read by process 0 alone.
    func shareTrainingState(_ plan: Plan, _ optimizer: any Optimizer) {
        guard size > 1 else { return }
        broadcast(plan.values, count: plan.parameterCount, from: 0)
        for state in plan.state { broadcast(state.data, count: state.shape.reduce(1, *), from: 0) }
        for (_, values) in optimizer.stateBuffers { broadcast(values, count: plan.trainableCount, from: 0) }
        var steps = [optimizer.steps]
        broadcast(&steps, from: 0)
        optimizer.steps = steps[0]
    }
}
