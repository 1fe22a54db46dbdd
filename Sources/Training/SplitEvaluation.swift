import Engine
import FlowSpec
import Tasks

/// One pass over a split in evaluation mode: every task's masked loss and metrics.
struct SplitEvaluation {
    /// Per task, in the model's order: (loss, rows counted), then the task's metrics.
    var losses: [(loss: Double, count: Int)]
    var metrics: [[Metric]]

    static func run(_ model: CompiledModel, _ split: EncodedSplit, statistics: DataStatistics, batchSize: Int,
                    mode: PassMode = .evaluation) -> SplitEvaluation {
        let batcher = Batcher(model: model)
        var predictions = model.tasks.map { TaskPredictions($0.decoder(statistics)) }
        var sums = [(loss: Double, count: Int)](repeating: (0, 0), count: model.tasks.count)
        var start = 0
        while start < split.rows {
            let end = min(start + batchSize, split.rows)
            let rows = Array(start..<end)
            batcher.fill(split, rows: rows[...])
            model.plan.forward(batch: rows.count, mode: mode)
            for (t, task) in model.tasks.enumerated() {
                sums[t].loss += Double(task.loss.loss) * Double(task.loss.count)
                sums[t].count += task.loss.count
                predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                                   targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                                   rows: rows[...], counts: split.counts[t])
            }
            start = end
        }
        return SplitEvaluation(losses: sums.map { ($0.count == 0 ? 0 : $0.loss / Double($0.count), $0.count) },
                               metrics: predictions.map { $0.metrics() })
    }
}
