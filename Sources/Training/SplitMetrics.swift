import Engine
import Foundation
import FlowSpec
import ProcessGroups
import Tasks

/// Every task's masked loss and metrics on a split: what `metrics.csv` records per epoch for
/// the training split (from the steps' own outputs, `EpochProgress`) and the validation split
/// (one pass in evaluation mode, `measure`).
struct SplitMetrics {
    /// Per task, in the model's order: (mean loss, rows counted), then the task's metrics.
    var losses: [(loss: Double, count: Int)]
    var metrics: [[Metric]]

    /// One pass over `split` in `mode` (evaluation: dropout off, running statistics used).
    /// A masked language model is measured on a second pass of each batch with its tokens
    /// masked (seeded by `maskingSeed`: the same tokens every epoch), the other tasks on the
    /// text as written. With several `processes`, each holding a part of the split, each passes
    /// over its part and the losses' sums and the predictions of every part are put together
    /// (in rank order: the split's), so that the metrics are those of the whole split, the same
    /// on every process.
    static func measure(_ model: CompiledModel, _ split: EncodedSplit, statistics: DataStatistics, batchSize: Int,
                        mode: PassMode = .evaluation, maskingSeed: Int = 0,
                        processes: any ProcessGroup = SingleProcess()) -> SplitMetrics {
        let batcher = Batcher(model: model)
        batcher.maskingSeed = maskingSeed
        var predictions = model.tasks.map { TaskPredictions($0.decoder(statistics)) }
        var sums = [(loss: Double, count: Int)](repeating: (0, 0), count: model.tasks.count)
        var start = 0
        while start < split.rows {
            let end = min(start + batchSize, split.rows)
            let rows = Array(start..<end)
            for masked in model.hasMaskedLanguageModel ? [false, true] : [false] {
                batcher.masksTokens = masked
                batcher.fill(split, rows: rows[...])
                model.plan.forward(batch: rows.count, mode: mode)
                for (t, task) in model.tasks.enumerated() where (task.output.type == .maskedLanguageModel) == masked {
                    sums[t].loss += Double(task.loss.loss) * Double(task.loss.count)
                    sums[t].count += task.loss.count
                    predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                                       targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                                       rows: rows[...], counts: split.counts[t])
                }
            }
            start = end
        }
        if processes.size > 1 {
            var losses = sums.map(\.loss), counts = sums.map(\.count)
            processes.allreduceSum(&losses)
            processes.allreduceSum(&counts)
            sums = zip(losses, counts).map { (loss: $0, count: $1) }
            for t in predictions.indices { predictions[t].gather(across: processes) }
        }
        return SplitMetrics(sums: sums, predictions: predictions)
    }

    /// From each task's summed loss and rows, and its collected predictions: the tasks' metrics
    /// on every core, a task per job (a binary task orders its 240,000 training scores for the
    /// ROC AUC; the pool's threads are idle between epochs).
    init(sums: [(loss: Double, count: Int)], predictions: [TaskPredictions]) {
        losses = sums.map { ($0.count == 0 ? 0 : $0.loss / Double($0.count), $0.count) }
        let jobs = ParallelJobs<[Metric]>(count: predictions.count)
        DispatchQueue.concurrentPerform(iterations: predictions.count) { t in jobs.run(t) { predictions[t].metrics() } }
        metrics = try! jobs.results()  // no job throws
    }
}
