import FileFormats
import FlowSpec
import Training

/// A trunk branch's output on every row of a split (`flowtrain embed`): the features the
/// branch gives each sample, in evaluation mode — a frozen backbone's embeddings, the input
/// of every head that reads the branch.
public struct BranchOutputs {
    public let split: EncodedSplit
    public let branch: String
    /// Values per row (the branch's output, flattened in the engine's order: an image's
    /// H × W × C channels last).
    public let width: Int
    /// `rows × width`.
    public let values: [Float]

    /// Runs the model over `split`, `batchSize` rows at a time, keeping `branch`'s output.
    static func infer(_ model: CompiledModel, branch: String, _ split: EncodedSplit, batchSize: Int) -> BranchOutputs? {
        guard let tensor = model.branches[branch] else { return nil }
        let width = tensor.sampleSize
        var values = [Float](repeating: 0, count: split.rows * width)
        let batcher = Batcher(model: model)
        var start = 0
        while start < split.rows {
            let end = min(start + batchSize, split.rows)
            batcher.fill(split, rows: Array(start..<end)[...])
            model.plan.forward(batch: end - start, mode: .evaluation)
            values.withUnsafeMutableBufferPointer { out in
                (out.baseAddress! + start * width).update(from: tensor.data, count: (end - start) * width)
            }
            start = end
        }
        return BranchOutputs(split: split, branch: branch, width: width, values: values)
    }

    /// `row` (the 0-based data row of its CSV file), then `<branch>.0` … `<branch>.<width − 1>`,
    /// numbers written so that they read back as the same float.
    public func csv() -> CSVWriter {
        var csv = CSVWriter(header: ["row"] + (0..<width).map { "\(branch).\($0)" })
        for r in 0..<split.rows {
            csv.append([String(split.sourceRows[r])] + values[(r * width)..<((r + 1) * width)].map { "\($0)" })
        }
        return csv
    }
}

extension TrainedRun {
    /// The output of trunk branch `branch` (nil: the last branch of the trunk) on every row of
    /// `split`. Throws a `Problem` naming the flow's branches when there is no such branch.
    public func branchOutputs(_ split: EncodedSplit, branch: String?) throws(Problem) -> BranchOutputs {
        let names = flow.branches.map(\.branch.name)
        guard let name = branch ?? names.last else {
            throw Problem(file: directory.path("flow.yaml"), message: "the flow has no trunk branch to embed with")
        }
        let batchSize = min(flow.flow.training.batchSize, split.rows)
        guard names.contains(name), let outputs = BranchOutputs.infer(try model(maxBatch: batchSize), branch: name, split,
                                                                        batchSize: batchSize) else {
            throw Problem(file: directory.path("flow.yaml"), message: "the flow has no trunk branch '\(name)'",
                          hint: Suggestion.hint(for: name, among: names) ?? "its branches: \(names.joined(separator: ", "))")
        }
        return outputs
    }
}
