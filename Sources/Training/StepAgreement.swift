import ProcessGroups

/// What the processes of a training decide together, so that they all go on or all stop at the
/// same step: after each step, in one collective call, whether it diverged (a process holds only
/// its share of each task's loss; the shares summed are the batch's, and a NaN or an infinity in
/// any process's share is in the sum) and whether to stop (a signal reaches the processes at
/// different steps, or only some of them). Alone, the values are the process's own and nothing
/// is exchanged. Allocates nothing per step.
///
/// `ProcessAgreement` makes the processes fail together before training, over the data each
/// reads: what they agree on there is a located `Problem`, exchanged once as text. Here it is a
/// few numbers after every step, in one float allreduce that also gives every process the
/// batch's losses; a problem one process alone meets while training (a file it cannot write)
/// is not agreed on but ends the job (`MPI_Abort`).
final class StepAgreement {
    private let processes: any ProcessGroup
    private let model: CompiledModel
    /// Per task its loss, then the total loss, then the stop requests: summed over the processes.
    private let values: UnsafeMutablePointer<Float>
    private var tasks: Int { model.tasks.count }

    init(_ processes: any ProcessGroup, model: CompiledModel) {
        self.processes = processes
        self.model = model
        values = .allocate(capacity: model.tasks.count + 2)
        values.initialize(repeating: 0, count: model.tasks.count + 2)
    }

    deinit { values.deallocate() }

    /// After a step: sums every process's losses and stop requests; true when any asked to stop.
    func afterStep(stopRequested: Bool) -> Bool {
        for (t, task) in model.tasks.enumerated() { values[t] = task.loss.loss }
        values[tasks] = model.plan.totalLoss
        values[tasks + 1] = stopRequested ? 1 : 0
        processes.allreduceSum(values, count: tasks + 2)
        return values[tasks + 1] > 0
    }

    /// Task t's loss over the whole batch of the last step.
    func taskLoss(_ t: Int) -> Float { values[t] }

    /// The total loss (weighted, balancer terms included) over the whole batch of the last step.
    var totalLoss: Float { values[tasks] }

    /// The last step's loss over the whole batch with the tasks' fixed weights, as progress shows it.
    var shownLoss: Double {
        model.tasks.indices.reduce(0.0) { $0 + model.tasks[$1].task.spec.weight * Double(values[$1]) }
    }

    /// Between steps (an epoch's end): true when any process asks to stop.
    func stop(requested: Bool) -> Bool {
        var requests = [requested ? 1 : 0]
        processes.allreduceSum(&requests)
        return requests[0] > 0
    }
}
