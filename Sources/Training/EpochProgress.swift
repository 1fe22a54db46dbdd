import Engine
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
    /// the model's tensors); returns the step's loss.
    mutating func add(_ model: CompiledModel, rows: ArraySlice<Int>) -> Double {
        let loss = model.tasks.reduce(0.0) { $0 + $1.task.spec.weight * Double($1.loss.loss) }
        trainLoss += loss * Double(rows.count)
        seen += rows.count
        for (t, task) in model.tasks.enumerated() {
            taskLosses[t].loss += Double(task.loss.loss) * Double(task.loss.count)
            taskLosses[t].count += task.loss.count
            // The batch's mask is the split's counts at its rows, and where augmentation moved a
            // coordinate (a bounded regression) out of view, 0.
            predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                               targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                               rows: rows, counts: nil, mask: UnsafeBufferPointer(task.mask.values(batch: rows.count)))
        }
        return loss
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
