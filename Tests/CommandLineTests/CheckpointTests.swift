import Foundation
import Testing

/// The checkpoint stays the same size however many epochs a run has trained, and `--resume`
/// refuses what it cannot continue exactly: training data that changed since the run started,
/// and run files that no longer hold what the checkpoint recorded.
struct CheckpointTests {
    static let diagnostics = "diagnostics: {layers: true, worst_samples: 5}"

    /// metrics.csv, diagnostics.csv and worst_samples.csv grow every epoch; the checkpoint holds
    /// only their lengths and checksums, so 12 epochs leave one as large as 2 do but for the
    /// digits of its counters (steps, epochs) and of the flow's `epochs:`.
    @Test func theCheckpointDoesNotGrowWithTheEpochs() throws {
        var sizes: [Int] = []
        for epochs in [2, 12] {
            let directory = try scratchDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let flow = try TabularRunFixture.write(in: directory, train: "epochs: \(epochs), \(Self.diagnostics)")
            let runDirectory = directory.appendingPathComponent("run")
            let training = try run(["train", flow.path, "--run-dir", runDirectory.path])
            #expect(training.status == 0, "\(training.stderr)")
            let metrics = try Data(contentsOf: runDirectory.appendingPathComponent("metrics.csv"))
            #expect(metrics.count > 1000 * epochs / 2, "metrics.csv should grow with the epochs")
            let attributes = try FileManager.default.attributesOfItem(atPath: runDirectory.appendingPathComponent("checkpoint.safetensors").path)
            sizes.append(try #require(attributes[.size] as? Int))
        }
        #expect(abs(sizes[1] - sizes[0]) <= 64, "checkpoint sizes after 2 and 12 epochs: \(sizes)")
    }

    @Test func resumeRefusesTrainingDataThatChanged() throws {
        let (directory, flow, runDirectory) = try stoppedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv")
        let text = try String(contentsOf: train, encoding: .utf8)
        #expect(text.hasPrefix("a,b,kind,open,colour,size\n0.0,-3.0,red,"))
        try text.replacingOccurrences(of: "\n0.0,-3.0,red,", with: "\n0.5,-3.0,red,").write(to: train, atomically: true, encoding: .utf8)
        let resumed = try run(["train", flow.path, "--run-dir", runDirectory.path, "--resume"], deadline: 60)
        #expect(resumed.status == 2)
        #expect(resumed.stderr == "\(train.path): the training split's statistics differ from those the run in "
                + "\(runDirectory.path) started with (numeric input 'x'); a run resumes on the data it started with: "
                + "restore the data, or train a new run with another --run-dir\n")
    }

    @Test func resumeRefusesAMetricsFileThatLostRows() throws {
        let (directory, flow, runDirectory) = try stoppedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let metrics = runDirectory.appendingPathComponent("metrics.csv")
        try "epoch,split,task_path,metric_name,value,num_samples\n".write(to: metrics, atomically: true, encoding: .utf8)
        let resumed = try run(["train", flow.path, "--run-dir", runDirectory.path, "--resume"], deadline: 60)
        #expect(resumed.status == 2)
        #expect(resumed.stderr.hasPrefix("\(metrics.path): no longer begins with the "), "\(resumed.stderr)")
        #expect(resumed.stderr.hasSuffix(" bytes the checkpoint recorded; a run resumes from its own files: restore "
                                         + "them, or train a new run with another --run-dir\n"), "\(resumed.stderr)")
    }

    /// A run of the fixture flow, with diagnostics, stopped by Ctrl-C once it has a checkpoint:
    /// (its directory, the flow, the run directory).
    private func stoppedRun() throws -> (URL, URL, URL) {
        let directory = try scratchDirectory()
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 100000, \(Self.diagnostics)")
        let runDirectory = directory.appendingPathComponent("run")
        let process = Process()
        process.executableURL = flowtrainBinary
        process.arguments = ["train", flow.path, "--run-dir", runDirectory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = runDirectory.appendingPathComponent("checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint), Date() < deadline, process.isRunning { usleep(2_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        return (directory, flow, runDirectory)
    }
}
