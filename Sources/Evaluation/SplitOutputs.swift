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
    /// Per token classification: the tokens of each row its sequence holds (the positions
    /// before the padding); empty for the other tasks.
    public var tokens: [[Int]] = []

    /// Runs the model in evaluation mode over `split`, `batchSize` rows at a time. With a
    /// masked language model, each batch runs twice: as written for the other tasks, and with
    /// its tokens masked (seeded by `maskingSeed`, the same tokens each time) for it.
    public static func infer(_ model: CompiledModel, _ split: EncodedSplit, batchSize: Int,
                             maskingSeed: Int = 0) -> SplitOutputs {
        let width = model.tasks.map(\.logits.sampleSize)
        var logits = width.map { [Float](repeating: 0, count: split.rows * $0) }
        var losses = model.tasks.map { _ in [Float](repeating: .nan, count: split.rows) }
        var tokens = model.tasks.map { task in task.output.type == .tokenClassification ? [Int](repeating: 0, count: split.rows) : [] }
        let batcher = Batcher(model: model)
        batcher.maskingSeed = maskingSeed
        var start = 0
        while start < split.rows {
            let end = min(start + batchSize, split.rows)
            for masked in model.hasMaskedLanguageModel ? [false, true] : [false] {
                batcher.masksTokens = masked
                batcher.fill(split, rows: Array(start..<end)[...])
                model.plan.forward(batch: end - start, mode: .evaluation)
                for (t, task) in model.tasks.enumerated() where (task.output.type == .maskedLanguageModel) == masked {
                    logits[t].withUnsafeMutableBufferPointer { out in
                        (out.baseAddress! + start * width[t]).update(from: task.logits.data, count: (end - start) * width[t])
                    }
                    losses[t].withUnsafeMutableBufferPointer { out in
                        task.loss.sampleLosses(batch: end - start, into: out.baseAddress! + start)
                    }
                    if let padding = task.padding, task.output.type == .tokenClassification {
                        let length = padding.sampleSize
                        for r in start..<end {
                            let keep = padding.data + (r - start) * length
                            tokens[t][r] = (0..<length).reduce(0) { $0 + (keep[$1] > 0 ? 1 : 0) }
                        }
                    }
                }
            }
            start = end
        }
        return SplitOutputs(split: split, logits: logits, width: width, losses: losses, tokens: tokens)
    }

    /// Task `t`'s tokens on row `r`, for a token classification (nil for the other tasks).
    public func tokens(_ t: Int, _ r: Int) -> Int? {
        t < tokens.count && !tokens[t].isEmpty ? tokens[t][r] : nil
    }

    /// Task `t`'s logits on row `r`.
    public func logits(_ t: Int, _ r: Int) -> ArraySlice<Float> {
        logits[t][(r * width[t])..<((r + 1) * width[t])]
    }
}
