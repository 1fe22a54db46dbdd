import Foundation
import Testing

/// `flowtrain train` under `mpirun -np N` trains as one process does: each process takes its part
/// of every batch, their losses' shares and gradients are summed (batchnorm's statistics and the
/// loss balancers' sums too), and process 0 writes the run, diagnostics included. The resume and
/// failure tests are in extensions of this suite, so that no two mpirun jobs run at once.
/// `make deps` installs Open MPI; without `mpirun` these tests fail rather than pass unseen.
@Suite(.serialized)
struct DataParallelTests {
    /// `mpirun` on the PATH.
    static let mpirun: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `flowtrain ARGUMENTS` in `processes` processes under mpirun (as root too, as CI runs,
    /// and with more processes than cores).
    static func mpiFlowtrain(_ processes: Int, _ arguments: [String], mpiArguments: [String] = []) throws -> CommandResult {
        guard let mpirun else {
            Issue.record("mpirun is not installed: `make deps` installs Open MPI (openmpi-bin)")
            return CommandResult(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", String(processes)] + mpiArguments
            + [flowtrainBinary.path] + arguments
        let out = Pipe(), err = Pipe()
        (process.standardOutput, process.standardError) = (out, err)
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) { MPIJob.end(process) }
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                             stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func twoProcessesTrainAsOneDoes() throws {
        let directory = try scratchDirectory()
        // A precondition (colour only where open) makes the halves of a batch keep different
        // counts of rows for that task, so the shares must be divided by the batch's count.
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 3").path
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        let alone = try run(["train", flow, "--run-dir", one.path, "--threads", "1"])
        #expect(alone.status == 0, "\(alone.stderr)")
        let together = try Self.mpiFlowtrain(2, ["train", flow, "--run-dir", two.path, "--threads", "1"])
        try #require(together.status == 0, "\(together.stderr)")
        // Process 0 alone prints and writes.
        #expect(together.stdout == two.path + "\n")
        #expect(together.stderr.components(separatedBy: "training tabular:").count == 2, "\(together.stderr)")

        try Self.expectSameTraining(two, as: one)
    }

    /// `together` (a run under mpirun) trained as `alone` did: the same metrics and weights,
    /// running statistics and balancer state included.
    ///
    /// The sums of a step are taken in another order (each process's part, then the parts'), so
    /// the numbers differ in their last float digits and drift a little over the steps (4e-8
    /// relative in the metrics, 1.5e-8 in the weights over 18 steps of the tabular fixture,
    /// measured): 1e-5 relative (1e-7 absolute near 0) leaves room for that and none for a wrong
    /// divisor or a missing reduction, which change the numbers in their first digits.
    static func expectSameTraining(_ together: URL, as alone: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try metrics(in: alone), actual = try metrics(in: together)
        #expect(expected.count == actual.count && expected.count > 20, sourceLocation: sourceLocation)
        for (e, a) in zip(expected, actual) {
            #expect(e.key == a.key, sourceLocation: sourceLocation)
            #expect(abs(e.value - a.value) <= max(1e-7, 1e-5 * abs(e.value)), "\(e.key): \(e.value) alone, \(a.value) under mpirun",
                    sourceLocation: sourceLocation)
        }
        for file in ["model.safetensors", "model-last.safetensors"] {
            let weights = try tensors(in: alone.appendingPathComponent(file))
            let weightsTogether = try tensors(in: together.appendingPathComponent(file))
            #expect(weights.keys.sorted() == weightsTogether.keys.sorted() && !weights.isEmpty, sourceLocation: sourceLocation)
            for (name, values) in weights {
                let other = weightsTogether[name] ?? []
                #expect(values.count == other.count, "\(name)", sourceLocation: sourceLocation)
                let largest = zip(values, other).map { abs($0 - $1) }.max() ?? 0
                #expect(largest <= 1e-5, "\(file) \(name): differs by \(largest)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Trains `flow` alone and under mpirun with each of `processes` (`--threads 1`, run
    /// directories named after the count under `directory`); expects every run to train as the
    /// one process did. Returns the run directories, the one process's first.
    @discardableResult
    static func expectTrainsAsOneProcess(_ flow: URL, processes: [Int], in directory: URL,
                                         sourceLocation: SourceLocation = #_sourceLocation) throws -> [URL] {
        let one = directory.appendingPathComponent("1")
        let alone = try run(["train", flow.path, "--run-dir", one.path, "--threads", "1"])
        try #require(alone.status == 0, "\(alone.stderr)", sourceLocation: sourceLocation)
        var runs = [one]
        for count in processes {
            let together = directory.appendingPathComponent(String(count))
            let result = try mpiFlowtrain(count, ["train", flow.path, "--run-dir", together.path, "--threads", "1"])
            try #require(result.status == 0, "\(count) processes: \(result.stderr)", sourceLocation: sourceLocation)
            try expectSameTraining(together, as: one, sourceLocation: sourceLocation)
            runs.append(together)
        }
        return runs
    }

    /// Each balancer's state (uncertainty's log-variances, a parameter; DWA's epoch sums and
    /// means; GradNorm's μ and first losses) is the whole batch's on every process: the task
    /// weights, and so the weights and metrics, are one process's. The tabular fixture keeps a
    /// different number of rows of its conditional task in each process's part.
    @Test(arguments: ["uncertainty", "dwa", "gradnorm"])
    func lossBalancersTrainAsOneProcessDoes(_ weighting: String) throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 3, loss_weighting: \(weighting)")
        let runs = try Self.expectTrainsAsOneProcess(flow, processes: [2, 3], in: directory)
        let state = try Self.tensors(in: runs[1].appendingPathComponent("model-last.safetensors")).keys
        #expect(state.contains { $0.hasPrefix("loss_weighting.") }, "\(state.sorted())")
    }

    /// Trainable batchnorm normalises with the whole batch's statistics (synchronised across the
    /// processes), so the running statistics saved with the weights are one process's: on
    /// vectors (the tabular fixture) and on images (a small conv net on generated scenes, whose
    /// statistics run over every pixel of the batch).
    ///
    /// With plain gradient descent: the bias of the layer a batchnorm follows has a gradient of
    /// zero but for rounding (the normalisation takes its mean out again), which Adam, dividing
    /// by its own running size, turns into steps of the learning rate's size that differ with
    /// the order of the sums; that bias and the running mean that follows it would then differ
    /// between any two summation orders, one process's included.
    @Test func trainableBatchnormTrainsAsOneProcessDoes() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tabular = directory.appendingPathComponent("tabular")
        try FileManager.default.createDirectory(at: tabular, withIntermediateDirectories: true)
        let flow = try TabularRunFixture.write(in: tabular, train: "epochs: 3, optimizer: {name: sgd, lr: 0.05}",
                                               layers: "[dense: 8, batchnorm, relu]")
        let runs = try Self.expectTrainsAsOneProcess(flow, processes: [2, 3], in: tabular)
        #expect(try Self.tensors(in: runs[1].appendingPathComponent("model.safetensors"))["trunk.t.1.batchnorm.running_var"] != nil)

        let images = directory.appendingPathComponent("images")
        let data = images.appendingPathComponent("data")
        #expect(try run(["datasets", "security", "--out", data.path, "--n", "80"]).status == 0)
        let scenes = images.appendingPathComponent("scenes.yaml")
        try """
            name: scenes
            data: {train: \(data.path)/train.csv, valid: \(data.path)/valid.csv}
            inputs:
              image: {type: image, column: image, shape: [64, 64, 3]}
            trunk:
              t:
                from: image
                layers: [conv: {filters: 4, kernel: 3, padding: same}, batchnorm, relu, maxpool: 8, flatten, dense: 8,
                         batchnorm, relu]
            flow:
              camera_blocked: {type: binary}
              door_open: {type: binary, when: not camera_blocked}
            train: {epochs: 2, batch_size: 16, seed: 1, optimizer: {name: sgd, lr: 0.05}}
            """.write(to: scenes, atomically: true, encoding: .utf8)
        try Self.expectTrainsAsOneProcess(scenes, processes: [2], in: images)
    }

    /// `diagnostics: true` under mpirun writes what one process writes: the layer statistics of
    /// the whole batch (every process's outputs gathered), and the worst samples of every
    /// process's rows with their row numbers in the training file (each process holding its
    /// stretch of the file). With balanced sampling a row may be drawn twice in an epoch: its
    /// loss is the later draw's, as alone.
    @Test(arguments: ["shuffle", "stratified", "balanced"])
    func diagnosticsAreOneProcesss(_ sampling: String) throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 3, diagnostics: true, sampling: \(sampling)")
        let runs = try Self.expectTrainsAsOneProcess(flow, processes: [2], in: directory)
        func table(_ run: URL, _ name: String) throws -> [[String]] {
            try String(contentsOf: run.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }
        // The values within the tolerance of the metrics; an update ratio, ‖ΔW‖ / ‖W‖, is a
        // difference of nearly equal weights, so their 1e-8 relative differences are 1e-5 of
        // it: 1e-3 there.
        for (name, column) in [("diagnostics.csv", 3), ("worst_samples.csv", 4)] {
            let expected = try table(runs[0], name), actual = try table(runs[1], name)
            #expect(expected.count == actual.count && expected.count > 10, "\(name)")
            for (e, a) in zip(expected, actual) {
                #expect(e.count == a.count && e.indices.allSatisfy { $0 == column || e[$0] == a[$0] }, "\(name): \(e) alone, \(a)")
                guard let x = Double(e[column]), let y = Double(a[column]) else {
                    #expect(e[column] == a[column], "\(name): \(e) alone, \(a)")
                    continue
                }
                let tolerance = e[2] == "update_ratio" ? 1e-3 : 1e-5
                #expect(abs(x - y) <= max(1e-7, tolerance * abs(x)), "\(name): \(e) alone, \(a)")
            }
        }
    }

    /// A batch of fewer rows than processes, once refused, trains as one process does: with
    /// batches of one row, every process but one holds none of a batch's rows at every step, yet
    /// takes part in every sum with an empty part (zero losses and gradients, DWA's loss
    /// shares). Batchnorm over an empty part is `SplitBatchTests`'s: over a batch of one or two
    /// rows its input's gradient is all rounding (x̂ is 0, or ±1 whatever the input), which the
    /// layer before it would follow, differently for every order of the sums.
    @Test func aBatchSmallerThanTheProcessesTrainsAsOneProcessDoes() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 2, loss_weighting: dwa")
        try String(contentsOf: flow, encoding: .utf8).replacingOccurrences(of: "batch_size: 8", with: "batch_size: 1")
            .write(to: flow, atomically: true, encoding: .utf8)
        try Self.expectTrainsAsOneProcess(flow, processes: [2, 3], in: directory)
    }

    /// `metrics.csv` as (epoch, split, task, metric, rows) → value, in the file's order.
    static func metrics(in run: URL) throws -> [(key: String, value: Double)] {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (fields.enumerated().filter { $0.offset != 4 }.map(\.element).joined(separator: ","), Double(fields[4]) ?? .nan)
        }
    }

    /// Every float32 tensor of a safetensors file, by name.
    static func tensors(in file: URL) throws -> [String: [Float]] {
        let data = try Data(contentsOf: file)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] ?? [:]
        var tensors: [String: [Float]] = [:]
        for (name, entry) in header {
            guard let entry = entry as? [String: Any], entry["dtype"] as? String == "F32",
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else { continue }
            let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            tensors[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return tensors
    }
}
