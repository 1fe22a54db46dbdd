import Engine
import ProcessGroups
import Tasks

/// What an epoch's training steps have gathered so far: the loss summed over its rows (with the
/// tasks' fixed weights, as the validation loss is: what a balancer makes of the total is not
/// comparable between epochs), each task's summed loss and rows, and each task's predictions,
/// from which the epoch's training metrics come (as Keras reports them, not from a second pass
/// over the training split). A checkpoint taken within the epoch saves it; a resumed run
/// restores it and goes on adding.
///
/// With several processes, the sums are the whole batches' (the losses the processes agreed on
/// after each step), the same in every process, and the predictions each process's own until
/// `combine` puts them together in step order, however the epoch was split between runs (a
/// resumed run's sums and predictions, continued, are an uninterrupted run's).
struct EpochProgress {
    private(set) var trainLoss = 0.0, seen = 0
    /// Rows of this epoch trained before a resume: not in this session's speed.
    private(set) var seenBefore = 0
    private var taskLosses: [(loss: Double, count: Int)]
    private var predictions: [TaskPredictions]
    /// Per task, the scores, labels and flags each step added, three numbers a step after those
    /// of the predictions the epoch started from (none, or a checkpoint's): where `combine`
    /// finds each step's part of every process's predictions.
    private var added: [[Int]]

    init(_ model: CompiledModel, statistics: DataStatistics) {
        taskLosses = Array(repeating: (0, 0), count: model.tasks.count)
        predictions = model.tasks.map { TaskPredictions($0.decoder(statistics)) }
        added = Array(repeating: [0, 0, 0], count: model.tasks.count)
    }

    /// The mean training loss so far.
    var meanLoss: Double { trainLoss / Double(max(seen, 1)) }

    /// Adds the step just run: the batch's losses as the processes agreed on them, and the
    /// predictions on this process's training rows `rows` (its outputs, targets and masks are in
    /// the model's tensors), its part of a batch of `batchRows` rows.
    mutating func add(_ model: CompiledModel, _ agreed: StepAgreement, rows: ArraySlice<Int>, batchRows: Int) {
        trainLoss += agreed.shownLoss * Double(batchRows)
        seen += batchRows
        for (t, task) in model.tasks.enumerated() {
            // The batch's mean times its kept rows (the divisor, over every process): its summed loss.
            taskLosses[t].loss += Double(agreed.taskLoss(t)) * Double(task.loss.divisor)
            taskLosses[t].count += task.loss.divisor
            let before = predictions[t].lengths
            // The batch's mask is the split's counts at its rows, and where augmentation moved a
            // coordinate (a bounded regression) out of view, 0.
            predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                               targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                               rows: rows, counts: nil, mask: UnsafeBufferPointer(task.mask.values(batch: rows.count)))
            let after = predictions[t].lengths
            added[t].append(after.scores - before.scores)
            added[t].append(after.labels - before.labels)
            added[t].append(after.counted - before.counted)
        }
    }

    /// Every process's predictions in every process, in step order and, within a step, in rank
    /// order: each process's rows of a batch are in the order drawn, but, a process holding a
    /// stretch of the split, a batch's rows are interleaved among them, so the order differs
    /// from one process's within each batch (the metrics, which do not depend on it, only up to
    /// the order of float sums). It depends on nothing but the run and the number of processes,
    /// so a run stopped within an epoch and resumed under as many ends bit for bit as an
    /// uninterrupted one.
    mutating func combine(across processes: any ProcessGroup) {
        guard processes.size > 1 else { return }
        for t in predictions.indices {
            predictions[t].gather(across: processes, pieces: added[t])
            let all = predictions[t].lengths
            added[t] = [all.scores, all.labels, all.counted]
        }
    }

    /// The epoch's training losses and metrics.
    func metrics() -> SplitMetrics { SplitMetrics(sums: taskLosses, predictions: predictions) }

    /// Continues from a checkpoint taken within the epoch: its sums, and its predictions where
    /// it holds them (process 0's; the others start from none).
    mutating func restore(from checkpoint: Checkpoint) {
        (trainLoss, seen, taskLosses) = (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses)
        seenBefore = seen
        for (t, p) in checkpoint.predictions {
            predictions[t].restore(scores: p.scores, labels: p.labels, counted: p.counted)
            added[t] = [p.scores.count, p.labels.count, p.counted.count]
        }
    }

    func save(into checkpoint: inout Checkpoint) {
        (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses) = (trainLoss, seen, taskLosses)
        for (t, p) in predictions.enumerated() { checkpoint.predictions[t] = p.collected }
    }
}
