import Foundation
import Testing

/// `flowtrain train` under `mpirun -np 2` trains as one process does: each process takes half of
/// every batch, their losses' shares and gradients are summed, and process 0 writes the run.
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
    static func mpiFlowtrain(_ processes: Int, _ arguments: [String]) throws -> CommandResult {
        guard let mpirun else {
            Issue.record("mpirun is not installed: `make deps` installs Open MPI (openmpi-bin)")
            return CommandResult(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = mpirun
        process.arguments = ["--oversubscribe", "--allow-run-as-root", "-np", String(processes), flowtrainBinary.path] + arguments
        let out = Pipe(), err = Pipe()
        (process.standardOutput, process.standardError) = (out, err)
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
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

        // The sums of a step are taken in another order (each half's, then the halves'), so the
        // numbers differ in their last float digits and drift a little over the 18 steps (4e-8
        // relative in the metrics, 1.5e-8 in the weights, measured): 1e-5 relative (1e-7
        // absolute near 0) leaves room for that and none for a wrong divisor or a missing
        // reduction, which change the numbers in their first digits.
        let expected = try metrics(in: one), actual = try metrics(in: two)
        #expect(expected.count == actual.count && expected.count > 20)
        for (e, a) in zip(expected, actual) {
            #expect(e.key == a.key)
            #expect(abs(e.value - a.value) <= max(1e-7, 1e-5 * abs(e.value)), "\(e.key): \(e.value) alone, \(a.value) under mpirun")
        }
        let weights = try tensors(in: one.appendingPathComponent("model.safetensors"))
        let weightsTogether = try tensors(in: two.appendingPathComponent("model.safetensors"))
        #expect(weights.keys.sorted() == weightsTogether.keys.sorted() && !weights.isEmpty)
        for (name, values) in weights {
            let other = weightsTogether[name] ?? []
            #expect(values.count == other.count, "\(name)")
            let largest = zip(values, other).map { abs($0 - $1) }.max() ?? 0
            #expect(largest <= 1e-5, "\(name): weights differ by \(largest)")
        }
    }

    @Test func whatTwoProcessesCannotTrainAlikeIsBadInput() throws {
        let directory = try scratchDirectory()
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: 1, loss_weighting: uncertainty").path
        let run = directory.appendingPathComponent("run")
        let result = try Self.mpiFlowtrain(2, ["train", flow, "--run-dir", run.path, "--threads", "1"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("training across 2 processes: a loss_weighting other than fixed is not supported yet"),
                "\(result.stderr)")
    }

    /// `metrics.csv` as (epoch, split, task, metric, rows) → value, in the file's order.
    private func metrics(in run: URL) throws -> [(key: String, value: Double)] {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return (fields.enumerated().filter { $0.offset != 4 }.map(\.element).joined(separator: ","), Double(fields[4]) ?? .nan)
        }
    }

    /// Every float32 tensor of a safetensors file, by name.
    private func tensors(in file: URL) throws -> [String: [Float]] {
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
