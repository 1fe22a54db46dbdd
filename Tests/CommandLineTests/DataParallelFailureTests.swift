import Foundation
import Testing

/// A training under mpirun that fails ends every process within seconds: a divergence, which
/// the processes agree on, with process 0's message alone; a failure of one process with its
/// rank and reason, which ends the others (waiting for it in their next step) through MPI.
extension DataParallelTests {
    /// One row's prediction, about 1e30, squared overflows a float: the process whose part of
    /// the batch holds it sees an infinite loss, the other a finite one and (after the gradients'
    /// sum) an infinite gradient. Their losses' sum says the batch's: every process stops at
    /// the same step with the same cause, which process 0 writes once. Three seeds put the row in
    /// one part or the other.
    @Test(arguments: [1, 2, 3])
    func aDivergenceInOneProcessStopsEveryProcessAlike(_ seed: Int) throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: diverging
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1], normalize: none}
            flow:
              size: {type: regression, loss: mse}
            train: {batch_size: 8, seed: \(seed)}
            """, "flow.yaml", in: directory)
        try write("f1,size\n1,2\n2,3\n1e30,4\n3,5\n4,6\n5,7\n6,8\n7,9\n", "train.csv", in: directory)
        let started = Date()
        let result = try Self.mpiFlowtrain(2, ["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir",
                                               directory.appendingPathComponent("run").path, "--threads", "1"])
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(result.status == 1, "\(result.stderr)")
        let cause = "/run: training diverged at epoch 1, batch 1: the loss of task 'size' is inf\n"
        #expect(result.stderr.components(separatedBy: cause).count == 2, "\(result.stderr)")
        #expect(!result.stderr.contains("process 1 of 2"), "\(result.stderr)")
    }

    /// Process 0 fails alone in the middle of training (it cannot replace a weights file: a
    /// directory stands in its place) while process 1 goes on to its next collective call: the
    /// job ends with exit 1 and process 0's rank and reason, its last checkpoint as it was.
    @Test func aProcessFailingAloneEndsTheJobWithItsRank() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 100000")
        let runDirectory = directory.appendingPathComponent("run")
        let job = try MPIJob(2, flow: flow, runDirectory: runDirectory)
        let processes = try job.processes(2)
        try job.waitForCheckpoint()
        kill(processes[0], SIGTERM)
        #expect(job.wait(seconds: 20) == 128 + SIGTERM, "\(job.stderr)")
        let weights = runDirectory.appendingPathComponent("model-last.safetensors")
        try FileManager.default.removeItem(at: weights)
        try FileManager.default.createDirectory(at: weights.appendingPathComponent("in-the-way"), withIntermediateDirectories: true)
        let checkpoint = try Data(contentsOf: runDirectory.appendingPathComponent("checkpoint.safetensors"))

        let started = Date()
        let result = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", runDirectory.path, "--resume", "--threads", "1"])
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("process 0 of 2: \(weights.path)"), "\(result.stderr)")
        #expect(result.stderr.contains("the last checkpoint (epoch "), "\(result.stderr)")
        #expect(try Data(contentsOf: runDirectory.appendingPathComponent("checkpoint.safetensors")) == checkpoint)
    }

    /// A failure before training, in process 0 alone (its run directory is a file), while the
    /// others wait for the resumed run's position: bad input, exit 2, with its rank.
    @Test func badInputInOneProcessEndsTheJob() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 1")
        let file = directory.appendingPathComponent("a-file")
        try write("not a directory", "a-file", in: directory)
        let started = Date()
        let result = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", file.path, "--threads", "1"])
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("process 0 of 2: \(file.path)"), "\(result.stderr)")
    }
}
