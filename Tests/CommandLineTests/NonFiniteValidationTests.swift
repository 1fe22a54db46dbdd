import Foundation
import Testing

/// A validation loss that is not finite ranks no epoch, and never leaves a run without weights;
/// numbers float32 cannot hold are bad input.
struct NonFiniteValidationTests {
    static let flow = """
        name: extreme
        data: {train: train.csv, valid: valid.csv}
        inputs:
          x: {type: numeric, columns: [f1]}
        flow:
          size: {type: regression, loss: mse}
        """

    /// 1e20 fits a float32, but its squared error does not: the validation loss is infinite
    /// every epoch. The run keeps the first epoch's weights and fails with exit 1.
    @Test func aValidationLossNeverFiniteKeepsTheFirstEpochsWeightsAndExitsOne() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        try write("f1,size\n1,2\n2,3\n3,4\n4,5\n", "train.csv", in: directory)
        try write("f1,size\n1,2\n2,1e20\n", "valid.csv", in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                              "--epochs", "2", "--threads", "1"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("valid loss inf") && result.stderr.contains("(kept: no finite loss to rank it)"),
                "\(result.stderr)")
        #expect(result.stderr.hasSuffix("\(runDirectory.path): the validation loss was not finite in any epoch (the last "
                                        + "epoch's loss of task 'size' is inf), so no epoch could be chosen as the best: "
                                        + "model.safetensors holds epoch 1's weights; look for extreme values in the "
                                        + "validation data\nthe last checkpoint (epoch 2) is kept\n"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("model.safetensors").path))
        // The weights are there for the commands that read the run.
        let evaluation = try run(["eval", runDirectory.path, "--split", "train"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
    }

    /// A learning rate far too large for the targets: the loss grows tenfold and more each
    /// epoch until a step's is not finite. The run fails there (exit 1), saying at which epoch
    /// and batch, and keeps the last checkpoint.
    @Test func aStepWhoseLossIsNotFiniteFailsTheRunAtItsEpochAndBatch() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow.replacingOccurrences(of: "data: {train: train.csv, valid: valid.csv}", with: "data: {train: train.csv}")
                  + "\ntrain: {batch_size: 2, optimizer: {name: sgd, lr: 10}}\n", "flow.yaml", in: directory)
        try write("f1,size\n1,2\n2,3\n3,4\n4,5\n5,1\n6,7\n", "train.csv", in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                              "--epochs", "12", "--threads", "1"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasSuffix("\n\(runDirectory.path): training diverged at epoch 7, batch 1: the loss of task 'size' "
                                        + "is inf\nthe last checkpoint (epoch 6) is kept\n"), "\(result.stderr)")
    }

    /// Labels float32 cannot hold, as they are or once standardised, are bad input, located.
    @Test func regressionLabelsBeyondFloat32AreLocatedProblems() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        try write("f1,size\n1,2\n2,3\n3,1e39\n4,5\n", "train.csv", in: directory)
        try write("f1,size\n1,2\n", "valid.csv", in: directory)
        let flow = directory.appendingPathComponent("flow.yaml").path
        let result = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        #expect(result.status == 2)
        #expect(result.stderr == "\(directory.path)/train.csv:4:2: column 'size': '1e39' is beyond float32's range "
                + "(±3.4e38), in which training computes\n", "\(result.stderr)")
        // The training labels' deviation is below 1: 3e38 standardised is beyond float32.
        try write("f1,size\n1,2\n2,3\n3,2\n4,3\n", "train.csv", in: directory)
        try write("f1,size\n1,2\n2,3e38\n", "valid.csv", in: directory)
        let valid = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        #expect(valid.status == 2)
        #expect(valid.stderr == "\(directory.path)/valid.csv:3:2: column 'size': '3e38' is beyond float32's range "
                + "(±3.4e38) once normalised with the training split's statistics\n", "\(valid.stderr)")
    }
}
