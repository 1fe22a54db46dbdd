import Engine
import ProcessGroups
import Tasks

/// What an epoch's training steps have gathered so far: the loss summed over its rows (with the
/// tasks' fixed weights, as the validation loss is: what a balancer makes of the total is not
/// comparable between epochs), each task's summed loss and rows, and each task's predictions,
/// from which the epoch's training metrics come (as Keras reports them, not from a second pass
/// over the training split). A checkpoint taken within the epoch saves it; a resumed run
/// restores it and goes on adding.
struct EpochProgress {
    private(set) var trainLoss = 0.0, seen = 0
    /// Rows of this epoch trained before a resume: not in this session's speed.
    private(set) var seenBefore = 0
    private var taskLosses: [(loss: Double, count: Int)]
    private var predictions: [TaskPredictions]

    init(_ model: CompiledModel, statistics: DataStatistics) {
        taskLosses = Array(repeating: (0, 0), count: model.tasks.count)
        predictions = model.tasks.map { TaskPredictions($0.decoder(statistics)) }
    }

    /// The mean training loss so far.
    var meanLoss: Double { trainLoss / Double(max(seen, 1)) }

    /// Adds the step just run on the training rows `rows` (its outputs, targets and masks are in
    /// the model's tensors), this process's part of a batch of `batchRows` rows; returns the
    /// step's loss (this process's share of it when the batch is split across processes).
    mutating func add(_ model: CompiledModel, rows: ArraySlice<Int>, batchRows: Int) -> Double {
        let loss = model.tasks.reduce(0.0) { $0 + $1.task.spec.weight * Double($1.loss.loss) }
        // A share of the batch's mean, times the batch's rows: the processes' terms add up to
        // the batch's summed loss.
        trainLoss += loss * Double(batchRows)
        seen += rows.count
        for (t, task) in model.tasks.enumerated() {
            // The loss times what it was divided by: this process's summed loss.
            taskLosses[t].loss += Double(task.loss.loss) * Double(task.loss.divisor)
            taskLosses[t].count += task.loss.count
            // The batch's mask is the split's counts at its rows, and where augmentation moved a
            // coordinate (a bounded regression) out of view, 0.
            predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                               targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                               rows: rows, counts: nil, mask: UnsafeBufferPointer(task.mask.values(batch: rows.count)))
        }
        return loss
    }

    /// Sums and predictions of every process of `processes` together, as one process that ran
    /// the whole batches would have gathered them (predictions in rank order).
    mutating func combine(across processes: any ProcessGroup) {
        guard processes.size > 1 else { return }
        var sums = [trainLoss] + taskLosses.map(\.loss)
        var counts = [seen, seenBefore] + taskLosses.map(\.count)
        processes.allreduceSum(&sums)
        processes.allreduceSum(&counts)
        (trainLoss, seen, seenBefore) = (sums[0], counts[0], counts[1])
        taskLosses = zip(sums.dropFirst(), counts.dropFirst(2)).map { (loss: $0, count: $1) }
        for t in predictions.indices { predictions[t].gather(across: processes) }
    }

    /// The epoch's training losses and metrics.
    func metrics() -> SplitMetrics { SplitMetrics(sums: taskLosses, predictions: predictions) }

    mutating func restore(from checkpoint: Checkpoint) {
        (trainLoss, seen, taskLosses) = (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses)
        seenBefore = seen
        for (t, p) in checkpoint.predictions { predictions[t].restore(scores: p.scores, labels: p.labels, counted: p.counted) }
    }

    func save(into checkpoint: inout Checkpoint) {
        (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses) = (trainLoss, seen, taskLosses)
        for (t, p) in predictions.enumerated() { checkpoint.predictions[t] = p.collected }
    }
}
