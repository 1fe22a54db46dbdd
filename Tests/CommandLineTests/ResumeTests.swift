import Foundation
import Testing

/// A run killed at any moment resumes from its checkpoint and ends exactly as an uninterrupted
/// run: the same weights and metrics, bit for bit, at one thread.
@Suite(.serialized)
struct ResumeTests {
    /// The orders flow (balanced sampling, dropout and GradNorm added) on 60,000 generated rows (several
    /// hundred milliseconds an epoch), shared by the tests of this suite.
    static let data: (directory: URL, flow: String) = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-resume-\(UUID().uuidString)")
        let csv = directory.appendingPathComponent("orders")
        _ = try? run(["datasets", "orders", "--out", csv.path, "--n", "60000"])
        let text = (try? String(contentsOf: repositoryRoot.appendingPathComponent("flows/orders.yaml"), encoding: .utf8)) ?? ""
        let flow = directory.appendingPathComponent("orders.yaml")
        // With dropout, so that its generator's state must be carried across the interruption too.
        try? text.replacingOccurrences(of: "../datasets/orders/", with: csv.path + "/")
            .replacingOccurrences(of: "dense: 64, relu]", with: "dense: 64, relu, dropout: 0.2]")
            // GradNorm changes its task weights every step: its state must be carried too.
            .replacingOccurrences(of: "  loss_weighting: dwa", with: "  loss_weighting: gradnorm")
            // Balanced sampling draws each epoch's rows from a generator whose state is carried too.
            .replacingOccurrences(of: "  seed: 3", with: "  seed: 3\n  sampling: balanced")
            .write(to: flow, atomically: true, encoding: .utf8)
        return (directory, flow.path)
    }()

    static let arguments = ["--epochs", "4", "--threads", "1"]

    /// The uninterrupted run every resumed one is compared with.
    static let reference: URL = {
        let run = data.directory.appendingPathComponent("reference")
        _ = try? flowtrain(["train", data.flow, "--run-dir", run.path] + arguments)
        return run
    }()

    @Test func aRunKilledMidEpochResumesToTheSameWeightsAndMetrics() throws {
        let flowText = try String(contentsOfFile: Self.data.flow, encoding: .utf8)
        #expect(flowText.contains("loss_weighting: gradnorm") && flowText.contains("sampling: balanced"))
        let runDirectory = Self.data.directory.appendingPathComponent("killed")
        let process = try start(["train", Self.data.flow, "--run-dir", runDirectory.path] + Self.arguments)
        try waitForCheckpoint(in: runDirectory)
        usleep(50_000)  // into the second epoch

        // While it runs, the directory is taken.
        let second = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume"] + Self.arguments)
        #expect(second.status == 2)
        #expect(second.stderr.contains("\(runDirectory.path): is in use by another training (process \(process.processIdentifier))"),
                "\(second.stderr)")

        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before it could be killed")

        // Without --resume, a directory holding a run is refused.
        let again = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path] + Self.arguments)
        #expect(again.status == 2)
        #expect(again.stderr.contains("holds a run already; add --resume to continue it"))

        // A kill -9 while a file was being replaced leaves its temporary file; resuming removes it.
        try write("partial", ".metrics.csv.1f2e3d4c5b6a7988.tmp", in: runDirectory)

        // The lock died with the process.
        let resumed = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume"] + Self.arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming after epoch"))
        try expectSameRun(runDirectory, Self.reference)
        let temporary = try FileManager.default.contentsOfDirectory(atPath: runDirectory.path).filter { $0.hasSuffix(".tmp") }
        #expect(temporary.isEmpty, "\(temporary)")
    }

    /// Ctrl-C (SIGINT) and SIGTERM (`kill`, a batch scheduler's stop) stop alike: with a
    /// checkpoint and exit 128 + the signal's number.
    @Test(arguments: [SIGINT, SIGTERM])
    func aStopSignalLeavesACheckpointAndTheRunResumes(_ signal: Int32) throws {
        let runDirectory = Self.data.directory.appendingPathComponent("interrupted-\(signal)")
        let process = try start(["train", Self.data.flow, "--run-dir", runDirectory.path] + Self.arguments)
        try waitForCheckpoint(in: runDirectory)
        usleep(50_000)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        let stderr = String(decoding: (process.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal, "\(stderr)")
        #expect(stderr.contains("with a checkpoint; continue with:\n  flowtrain train \(Self.data.flow) --run-dir "
                                + "\(runDirectory.path) --resume\n"), "\(stderr)")
        let resumed = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume"] + Self.arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        try expectSameRun(runDirectory, Self.reference)

        // Resuming a finished run changes nothing: the event file, with its histograms, included.
        let events = try eventFiles(runDirectory)
        let finished = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume"])
        #expect(finished.status == 0)
        #expect(finished.stderr.contains("complete already"))
        try expectSameRun(runDirectory, Self.reference)
        #expect(try eventFiles(runDirectory) == events)
    }

    /// `--pause-after` stops at an epoch's end with the cosine schedule laid out for every
    /// epoch: paused twice and resumed, the run ends as the uninterrupted one (what a search's
    /// promoted trials rely on).
    @Test func aRunPausedAndResumedEndsAsAnUninterruptedOne() throws {
        let runDirectory = Self.data.directory.appendingPathComponent("paused")
        let first = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--pause-after", "1"] + Self.arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == runDirectory.path + "\n")
        #expect(first.stderr.contains("paused after epoch 1 of 4, with a checkpoint; continue with:\n  flowtrain train "
                                      + "\(Self.data.flow) --run-dir \(runDirectory.path) --resume\n"), "\(first.stderr)")
        #expect(!FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("report.html").path))
        // Asked to pause where it stands already, it trains nothing.
        let again = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume", "--pause-after", "1"]
                                  + Self.arguments)
        #expect(again.status == 0)
        #expect(!again.stderr.contains("epoch 2/4"), "\(again.stderr)")
        let second = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume", "--pause-after", "3"]
                                   + Self.arguments)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming after epoch 1") && second.stderr.contains("paused after epoch 3 of 4"))
        let last = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume"] + Self.arguments)
        #expect(last.status == 0, "\(last.stderr)")
        try expectSameRun(runDirectory, Self.reference)
    }

    @Test func resumeRefusesAChangedFlowAndOtherEpochs() throws {
        let runDirectory = Self.data.directory.appendingPathComponent("changed")
        #expect(try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--epochs", "1"]).status == 0)
        let epochs = try flowtrain(["train", Self.data.flow, "--run-dir", runDirectory.path, "--resume", "--epochs", "3"])
        #expect(epochs.status == 2)
        #expect(epochs.stderr == "\(runDirectory.path): was started for 1 epochs; a resumed run keeps them (drop --epochs)\n")
        let changed = Self.data.directory.appendingPathComponent("changed.yaml")
        try String(contentsOfFile: Self.data.flow, encoding: .utf8).replacingOccurrences(of: "epochs:", with: "epochs: 7 #")
            .write(to: changed, atomically: true, encoding: .utf8)
        let other = try flowtrain(["train", changed.path, "--run-dir", runDirectory.path, "--resume"])
        #expect(other.status == 2)
        #expect(other.stderr.hasPrefix("\(runDirectory.path)/flow.yaml: differs from \(changed.path)"), "\(other.stderr)")
    }

    private func expectSameRun(_ run: URL, _ reference: URL) throws {
        for name in ["model.safetensors", "model-last.safetensors", "metrics.csv", "diagnostics.csv", "worst_samples.csv"] {
            let a = try Data(contentsOf: run.appendingPathComponent(name))
            let b = try Data(contentsOf: reference.appendingPathComponent(name))
            #expect(a == b, "\(name) differs from the uninterrupted run's")
        }
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(metrics.components(separatedBy: "\n2,train,cancelled,loss,").count == 2)  // each epoch once
        let events = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(events.count == 1)
    }

    /// The run's TensorBoard event files by name.
    private func eventFiles(_ run: URL) throws -> [String: Data] {
        let names = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix("events.out.tfevents.") }
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: run.appendingPathComponent($0))) })
    }

    private func waitForCheckpoint(in run: URL) throws {
        let path = run.appendingPathComponent("checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw CancellationError() }
            usleep(2_000)
        }
    }
}

/// `flowtrain` started in the background, its standard error in a pipe.
private func start(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = flowtrainBinary
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    process.standardOutput = FileHandle.nullDevice
    process.standardError = Pipe()
    try process.run()
    return process
}

private func flowtrain(_ arguments: [String]) throws -> CommandResult { try run(arguments) }
