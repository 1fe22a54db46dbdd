import Foundation
import Testing

/// `flowtrain init` on the demos' CSVs writes flows whose tasks, types and composed
/// preconditions are the hand-written flows', and each trains as written.
struct InitCommandTests {
    /// Each task's path → "type | composed precondition", as `check --format json` reports them.
    static func tasks(_ flow: String) throws -> [String: String] {
        let result = try run(["check", flow, "--format", "json"])
        try #require(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: tasks.map { task in
            ("\(task["path"] ?? "")", "\(task["type"] ?? "") | \(task["when"] as? String ?? "always")")
        })
    }

    @Test(arguments: [
        ("orders", "1500", ["cancelled", "cancel_reason", "delivery"]),
        ("security", "1000", ["camera_blocked", "door_*", "person_present", "person_regression"]),
    ])
    func demosGiveTheHandWrittenTasks(_ demo: String, _ rows: String, _ targets: [String]) throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        #expect(try run(["datasets", demo, "--out", data.path, "--n", rows]).status == 0)
        let flow = directory.appendingPathComponent("flows/\(demo).yaml").path
        try FileManager.default.createDirectory(atPath: (flow as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let files = ["train", "valid", "test"].map { data.appendingPathComponent("\($0).csv").path }
        let written = try run(["init"] + files + ["--targets"] + targets + ["--out", flow])
        try #require(written.status == 0, "\(written.stderr)")
        #expect(written.stderr.hasSuffix("wrote \(flow); next: flowtrain train \(flow)\n"), "\(written.stderr)")
        let text = try String(contentsOfFile: flow, encoding: .utf8)
        #expect(text.contains("  train: ../data/train.csv\n"), "data paths relative to the flow: \(text)")

        #expect(try Self.tasks(flow) == Self.tasks(try shippedFlow("flows/\(demo).yaml")), "\(text)")
        #expect(try run(["init"] + files + ["--targets"] + targets + ["--out", flow]).stderr == "\(flow) exists; --force replaces it\n")

        // As written, the flow trains (one epoch here).
        let trained = try run(["train", flow, "--epochs", "1", "--run-dir", directory.appendingPathComponent("run").path], deadline: 300)
        #expect(trained.status == 0, "\(trained.stderr)")
    }

    @Test func standardOutputAndBadArguments() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("t.csv")
        try "a,b,y\n" .appending((0..<60).map { "\($0 % 7),x\($0 % 3),\($0 % 2)\n" }.joined()).write(to: csv, atomically: true, encoding: .utf8)
        let out = try run(["init", csv.path, "--targets", "y"], in: directory)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("  file: t.csv\n  split: {valid: 0.1, test: 0.1, seed: 1}\n"), "\(out.stdout)")
        #expect(out.stderr.contains("task y: binary\n"), "\(out.stderr)")

        let missing = try run(["init", csv.path, "--targets", "z"], in: directory)
        #expect(missing.status == 2)
        #expect(missing.stderr == "\(csv.path):1: --targets: no column is 'z' or starts with 'z.' (the header has a, b, y)\n")
        #expect(try run(["init", csv.path], in: directory).status == 2)
    }

    /// A CSV whose image paths lead from another directory than its own: `init` says so without
    /// `--images-relative-to`, and with it writes the image input's `directory:`, which `train`
    /// reads the images from.
    @Test func imagesRelativeToAnotherDirectory() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        #expect(try run(["datasets", "security", "--out", data.path, "--n", "400"]).status == 0)
        let tables = directory.appendingPathComponent("tables")
        try FileManager.default.createDirectory(at: tables, withIntermediateDirectories: true)
        let csv = tables.appendingPathComponent("all.csv")
        try FileManager.default.copyItem(at: data.appendingPathComponent("train.csv"), to: csv)

        let lost = try run(["init", csv.path, "--targets", "camera_blocked"], in: directory)
        #expect(lost.status == 2)
        #expect(lost.stderr == "\(tables.path)/images/00000.png: the file cannot be opened: No such file or directory "
                + "(image paths are read relative to the CSV file's directory; --images-relative-to names another)\n", "\(lost.stderr)")

        let written = try run(["init", "tables/all.csv", "--targets", "camera_blocked", "--images-relative-to", "data",
                               "--out", "flow.yaml"], in: directory)
        try #require(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOf: directory.appendingPathComponent("flow.yaml"), encoding: .utf8)
        #expect(text.contains("image: {type: image, column: image, shape: [64, 64, 3], directory: data}"), "\(text)")
        let trained = try run(["train", "flow.yaml", "--epochs", "1", "--run-dir", "run"], in: directory, deadline: 300)
        #expect(trained.status == 0, "\(trained.stderr)")
        let asRun = try String(contentsOf: directory.appendingPathComponent("run/flow.yaml"), encoding: .utf8)
        #expect(asRun.contains("directory: \"\(data.standardizedFileURL.path)\""), "\(asRun)")
    }
}
