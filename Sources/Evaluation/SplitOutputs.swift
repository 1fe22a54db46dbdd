import Engine
import Tasks
import Training

/// A model's raw outputs on every row of a split: each task's logits, and each sample's own
/// masked loss (NaN where the task does not count on the row under ground-truth preconditions).
public struct SplitOutputs {
    public let split: EncodedSplit
    /// Per task (model order): `rows × width[t]` logits.
    public let logits: [[Float]]
    public let width: [Int]
    /// Per task: one loss per row.
    public let losses: [[Float]]

    /// Runs the model in evaluation mode over `split`, `batchSize` rows at a time.
    public static func infer(_ model: CompiledModel, _ split: EncodedSplit, batchSize: Int) -> SplitOutputs {
        let width = model.tasks.map(\.logits.sampleSize)
        var logits = width.map { [Float](repeating: 0, count: split.rows * $0) }
        var losses = model.tasks.map { _ in [Float](repeating: .nan, count: split.rows) }
        let batcher = Batcher(model: model)
        var start = 0
        while start < split.rows {
            let end = min(start + batchSize, split.rows)
            batcher.fill(split, rows: Array(start..<end)[...])
            model.plan.forward(batch: end - start, mode: .evaluation)
            for (t, task) in model.tasks.enumerated() {
                logits[t].withUnsafeMutableBufferPointer { out in
                    (out.baseAddress! + start * width[t]).update(from: task.logits.data, count: (end - start) * width[t])
                }
                losses[t].withUnsafeMutableBufferPointer { out in
                    task.loss.sampleLosses(batch: end - start, into: out.baseAddress! + start)
                }
            }
            start = end
        }
        return SplitOutputs(split: split, logits: logits, width: width, losses: losses)
    }

    /// Task `t`'s logits on row `r`.
    public func logits(_ t: Int, _ r: Int) -> ArraySlice<Float> {
        logits[t][(r * width[t])..<((r + 1) * width[t])]
    }
}
