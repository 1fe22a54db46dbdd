import Foundation
import Testing

/// Runs under mpirun stopped or killed while they train: the checkpoint holds nothing of one
/// process alone (dropout draws per step from the seed, the rank and the step's place; the
/// epoch's progress and per-sample losses are every process's gathered), so a run continues
/// under the same number of processes exactly as if never stopped, and under another number too.
extension DataParallelTests {
    /// The tabular fixture with 2,400 training rows in batches of 32 (75 steps an epoch) and every
    /// kind of state a checkpoint carries: DWA's, batchnorm's running statistics, the diagnostics
    /// files and, with `dropout`, dropout's draws. Plain gradient descent, as the batchnorm test
    /// explains, when the runs are compared with one process's (whose weights it leaves within
    /// 3e-6 after its 300 steps).
    static func resumableFlow(in directory: URL, dropout: Bool, optimizer: String = "adam", epochs: Int = 4) throws -> URL {
        let flow = try TabularRunFixture.write(
            in: directory, train: "epochs: \(epochs), loss_weighting: dwa, diagnostics: true, optimizer: {name: \(optimizer), lr: 0.02}",
            layers: dropout ? "[dense: 8, batchnorm, relu, dropout: 0.2]" : "[dense: 8, batchnorm, relu]")
        try String(contentsOf: flow, encoding: .utf8).replacingOccurrences(of: "batch_size: 8", with: "batch_size: 32")
            .write(to: flow, atomically: true, encoding: .utf8)
        try TabularRunFixture.csv(rows: 2400, offset: 0)
            .write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        return flow
    }

    /// Starts `flow` in `processes` processes and sends process 0 alone SIGTERM as soon as it
    /// has begun training (it says so once its signal handler is in place): the processes
    /// agree to stop, with one checkpoint, and exit 143. An epoch of this flow takes
    /// milliseconds, so a test held up that long stops between two epochs (batch 0 of the
    /// next) instead: that run then resumes and is stopped again, until a stop lands within an
    /// epoch (a run that reaches its end fails the test). Returns the job stopped within an epoch.
    static func stopWithinAnEpoch(_ flow: URL, processes: Int, runDirectory: URL) throws -> MPIJob {
        var resume = false
        while true {
            let job = try MPIJob(processes, flow: flow, runDirectory: runDirectory, resume: resume)
            let pids = try job.processes(processes)
            try job.waitFor("training tabular:")
            kill(pids[0], SIGTERM)
            #expect(job.wait(seconds: 30) == 128 + SIGTERM, "\(job.stderr)")
            try #require(job.stderr.contains("stopped at epoch "), "\(job.stderr)")
            #expect(job.stderr.components(separatedBy: "stopped at epoch").count == 2, "process 0 alone says it: \(job.stderr)")
            guard job.stderr.contains(", batch 0,") else { return job }
            resume = true
        }
    }

    static func expectSameFiles(_ run: URL, as reference: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for name in ["model.safetensors", "model-last.safetensors", "metrics.csv", "diagnostics.csv", "worst_samples.csv"] {
            let a = try Data(contentsOf: run.appendingPathComponent(name))
            let b = try Data(contentsOf: reference.appendingPathComponent(name))
            #expect(a == b, "\(name) differs from the uninterrupted run's", sourceLocation: sourceLocation)
        }
    }

    /// A process killed (SIGKILL) ends the whole job within seconds, mpirun naming its rank and
    /// the signal, and the run's last checkpoint is whole: resumed under as many processes, the
    /// run ends bit for bit as an uninterrupted one, and one process can continue it too.
    @Test func aKilledProcessEndsTheJobAndTheRunResumes() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Twenty-four epochs (a few milliseconds each): the job still trains for most of a second
        // after its first checkpoint, while the test, held up on a loaded machine, kills it.
        let flow = try Self.resumableFlow(in: directory, dropout: true, epochs: 24)
        let reference = directory.appendingPathComponent("reference")
        let uninterrupted = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", reference.path, "--threads", "1"])
        try #require(uninterrupted.status == 0, "\(uninterrupted.stderr)")

        let killed = directory.appendingPathComponent("killed")
        let job = try MPIJob(2, flow: flow, runDirectory: killed)
        let processes = try job.processes(2)
        try job.waitForCheckpoint()
        kill(processes[1], SIGKILL)
        let status = job.wait(seconds: 20)
        #expect(status != nil && status != 0, "the job went on after its process 1 was killed: \(job.stderr)")
        #expect(job.stderr.contains("process rank 1 with PID") && job.stderr.contains("signal 9"), "\(job.stderr)")

        let copy = directory.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: killed, to: copy)
        let resumed = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", killed.path, "--resume", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after epoch"), "\(resumed.stderr)")
        try Self.expectSameFiles(killed, as: reference)

        let alone = try run(["train", flow.path, "--run-dir", copy.path, "--resume", "--threads", "1"], deadline: 120)
        #expect(alone.status == 0, "\(alone.stderr)")
    }

    /// A stop signal (SIGTERM, as a batch scheduler sends) to one process of two stops both after
    /// the same step, with one checkpoint (within the epoch: every process's progress in it):
    /// exit 143. The run continues under three processes and ends as one process's
    /// uninterrupted run does, to the tolerance of `expectSameTraining`.
    @Test func aRunStoppedUnderTwoProcessesFinishesUnderThree() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try Self.resumableFlow(in: directory, dropout: false, optimizer: "sgd")
        let reference = directory.appendingPathComponent("reference")
        let alone = try run(["train", flow.path, "--run-dir", reference.path, "--threads", "1"], deadline: 120)
        try #require(alone.status == 0, "\(alone.stderr)")

        let stopped = directory.appendingPathComponent("stopped")
        let job = try Self.stopWithinAnEpoch(flow, processes: 2, runDirectory: stopped)
        let advice = "with a checkpoint; continue with:\n  flowtrain train \(flow.path) --run-dir \(stopped.path) --resume"
        #expect(job.stderr.contains(advice), "\(job.stderr)")

        let resumed = try Self.mpiFlowtrain(3, ["train", flow.path, "--run-dir", stopped.path, "--resume", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after epoch"), "\(resumed.stderr)")
        try Self.expectSameTraining(stopped, as: reference)
    }

    /// Stopped within an epoch and resumed under as many processes, a run ends as an
    /// uninterrupted one, bit for bit: dropout's draws, and the interrupted epoch's sums and
    /// predictions (the agreed losses, and every process's predictions put in step order)
    /// included.
    @Test func aRunStoppedWithinAnEpochResumesToTheSameWeights() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try Self.resumableFlow(in: directory, dropout: true)
        let reference = directory.appendingPathComponent("reference")
        let uninterrupted = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", reference.path, "--threads", "1"])
        try #require(uninterrupted.status == 0, "\(uninterrupted.stderr)")

        let stopped = directory.appendingPathComponent("stopped")
        _ = try Self.stopWithinAnEpoch(flow, processes: 2, runDirectory: stopped)
        let resumed = try Self.mpiFlowtrain(2, ["train", flow.path, "--run-dir", stopped.path, "--resume", "--threads", "1"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try Self.expectSameFiles(stopped, as: reference)
    }
}
