import Foundation
import Testing

/// Where `train` writes: never into a directory that is not a run, and a default directory of
/// its own for every start, however many start at once.
struct RunDirectoryTests {
    static let flow = """
        name: stamped
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [f1]}
        flow:
          open: {type: binary}
        """

    /// A scratch directory with the flow and its data.
    private func flowDirectory() throws -> URL {
        let directory = try scratchDirectory()
        try write(Self.flow, "flow.yaml", in: directory)
        try write("f1,open\n1,1\n2,0\n3,1\n4,0\n", "train.csv", in: directory)
        return directory
    }

    /// `--run-dir "$UNSET"` would otherwise mean the current directory.
    @Test func anEmptyRunDirIsBadInputAndWritesNothing() throws {
        let directory = try flowDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", ""], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("Error: --run-dir is empty (an unset shell variable?); give a directory, or leave "
                                        + "--run-dir out to write runs/<flow name>/<time>\n"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["flow.yaml", "train.csv"])
    }

    @Test func aDirectoryWithOtherFilesIsRefusedAndAnEmptyOneIsUsed() throws {
        let directory = try flowDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = directory.appendingPathComponent("flow.yaml").path
        // The flow's own directory: not a run, not empty.
        let refused = try run(["train", flow, "--run-dir", directory.path])
        #expect(refused.status == 2)
        #expect(refused.stderr == "\(directory.path): is not empty and holds no run; train writes flow.yaml, metrics.csv, "
                + "report.html, plots/ and more there: choose a new or empty --run-dir\n", "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["flow.yaml", "train.csv"])

        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        let trained = try run(["train", flow, "--run-dir", empty.path, "--epochs", "1", "--threads", "1"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(FileManager.default.fileExists(atPath: empty.appendingPathComponent("model.safetensors").path))
    }

    /// A training killed while it wrote its first file leaves its lock and flow.yaml's temporary
    /// file: the directory is still an empty one, and a new training starts there and removes the
    /// leftover. Any other file keeps the directory refused.
    @Test func aDirectoryLeftByATrainingKilledBeforeItsFlowLandedIsEmpty() throws {
        let directory = try flowDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = directory.appendingPathComponent("flow.yaml").path
        let left = directory.appendingPathComponent("left")
        try FileManager.default.createDirectory(at: left, withIntermediateDirectories: false)
        try write("", ".lock", in: left)
        try write("name: stamp", ".flow.yaml.1f3a9c.tmp", in: left)
        let trained = try run(["train", flow, "--run-dir", left.path, "--epochs", "1", "--threads", "1"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: left.path)
        #expect(entries.contains("model.safetensors") && !entries.contains(".flow.yaml.1f3a9c.tmp"), "\(entries)")

        let other = directory.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: false)
        try write("", ".lock", in: other)
        try write("mine", ".notes.1f3a9c.tmp", in: other)
        let refused = try run(["train", flow, "--run-dir", other.path, "--epochs", "1", "--threads", "1"])
        #expect(refused.status == 2)
        #expect(refused.stderr.hasPrefix("\(other.path): is not empty and holds no run"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: other.path).sorted() == [".lock", ".notes.1f3a9c.tmp"])
    }

    /// Runs started in the same second, one after another or at once, each get a directory:
    /// `runs/<flow name>/<time>`, then `-2`, `-3`… Every second of the next ten minutes is
    /// taken by an earlier run already, so that every start meets a taken directory.
    @Test func concurrentStartsWithoutRunDirGetDirectoriesOfTheirOwn() throws {
        let directory = try flowDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let runs = directory.appendingPathComponent("runs/stamped")
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let now = Date()
        var taken = Set<String>()
        for second in 0..<600 {
            let stamp = runs.appendingPathComponent(formatter.string(from: now.addingTimeInterval(Double(second))))
            try FileManager.default.createDirectory(at: stamp, withIntermediateDirectories: true)
            try write("name: stamped\n", "flow.yaml", in: stamp)
            try write("", ".lock", in: stamp)
            taken.insert(stamp.path)
        }
        let starts = 4
        let processes = try (0..<starts).map { _ in
            let process = Process()
            process.executableURL = flowtrainBinary
            process.arguments = ["train", directory.appendingPathComponent("flow.yaml").path, "--epochs", "1", "--threads", "1"]
            process.currentDirectoryURL = directory
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, out)
        }
        var written = Set<String>()
        for (process, out) in processes {
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            // The path as given to the process: relative to its current directory.
            let printed = stdout.trimmingCharacters(in: .newlines)
            let path = printed.hasPrefix("/") ? printed : directory.path + "/" + printed
            #expect(path.hasPrefix(runs.path + "/"), "\(path)")
            #expect(!taken.contains(path), "\(path)")
            #expect(path.range(of: #"/\d{8}-\d{6}-\d+$"#, options: .regularExpression) != nil, "\(path)")
            #expect(FileManager.default.fileExists(atPath: path + "/model.safetensors"), "\(path)")
            written.insert(path)
        }
        #expect(written.count == starts)
    }
}
