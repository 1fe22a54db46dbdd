import Foundation
import FoundationXML
import Testing

/// What a user does after training, on a small security run (images, nested flows, every
/// binary, multilabel, classification and bounded regression): tune-thresholds, eval, explain,
/// predict on unlabelled rows; the plots, contact sheets and report they leave behind.
struct AfterTrainingCommandTests {
    @Test func tuneEvalExplainPredictAndTheReport() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-after-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        #expect(try run(["datasets", "security", "--out", data.path, "--n", "400"]).status == 0)
        let flowText = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/security.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../datasets/security/", with: data.path + "/")
        let flow = directory.appendingPathComponent("security.yaml")
        try flowText.write(to: flow, atomically: true, encoding: .utf8)
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", flow.path, "--epochs", "2", "--run-dir", runDirectory.path])
        #expect(training.status == 0, "\(training.stderr)")
        #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("report.html").path))

        // tune-thresholds: one line per binary task and per multilabel label, and the file; an
        // old, broken thresholds.yaml does not stand in its way.
        try "tasks: {camera_blocked: {threshold: [oops".write(to: runDirectory.appendingPathComponent("thresholds.yaml"),
                                                              atomically: true, encoding: .utf8)
        let tuning = try run(["tune-thresholds", runDirectory.path, "--metric", "youden"])
        #expect(tuning.status == 0, "\(tuning.stderr)")
        let thresholds = try String(contentsOf: runDirectory.appendingPathComponent("thresholds.yaml"), encoding: .utf8)
        #expect(thresholds.contains("split: valid\nmetric: \"youden\"\n"))
        #expect(thresholds.contains("  \"camera_blocked\": {threshold: "))
        #expect(thresholds.contains("    labels:\n      \"hat\": {threshold: "))

        // eval: evaluation.csv, predictions.csv with a row per test row, plots, interpretation.
        let evaluation = try run(["eval", runDirectory.path])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let predictions = try String(contentsOf: runDirectory.appendingPathComponent("predictions.csv"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let testRows = try String(contentsOf: data.appendingPathComponent("test.csv"), encoding: .utf8)
            .split(separator: "\n").count - 1
        #expect(predictions.count == testRows + 2)  // header, rows, final empty line
        #expect(predictions[0].hasPrefix("row,camera_blocked.decoded,camera_blocked.activated,camera_blocked.logits,"))
        let interpretation = Set(try FileManager.default.contentsOfDirectory(
            atPath: runDirectory.appendingPathComponent("interpretation").path))
        #expect(interpretation.isSuperset(of: ["camera_blocked.csv", "camera_blocked-worst.png", "camera_blocked-best.png"]))

        // Every plot is well-formed XML; each kind is there.
        let plots = runDirectory.appendingPathComponent("plots")
        let svgs = try FileManager.default.contentsOfDirectory(atPath: plots.path).filter { $0.hasSuffix(".svg") }
        for kind in ["learning-loss-", "learning-metric-", "confusion-", "roc-", "pr-", "predicted-actual-", "threshold-"] {
            #expect(svgs.contains { $0.hasPrefix(kind) }, "no \(kind) plot")
        }
        for file in svgs {
            let parser = XMLParser(data: try Data(contentsOf: plots.appendingPathComponent(file)))
            #expect(parser.parse(), "\(file): \(parser.parserError.map { "\($0)" } ?? "")")
        }
        let report = try String(contentsOf: runDirectory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("<ul class=\"tree\">") && report.contains("<th>ground truth</th>"))
        #expect(report.components(separatedBy: "<figure><svg").count - 1 == svgs.count)
        // The contact sheets are in the page, by paths relative to it.
        for sheet in interpretation where sheet.hasSuffix(".png") {
            #expect(report.contains("<img src=\"interpretation/\(sheet)\""), "\(sheet) not shown")
        }
        // Self-contained: nothing is fetched.
        #expect(!report.contains("src=\"http") && !report.contains("href=\"http") && !report.contains("<link"))

        // Plots follow the flow's order, not the alphabet.
        let loss = report.components(separatedBy: "<figure>").filter { $0.contains(": loss</text>") }
        #expect(loss.first?.contains("camera_blocked: loss") == true && loss.dropFirst().first?.contains("door_open: loss") == true)

        // eval --data: any labelled CSV, named by its path in evaluation.csv.
        let other = try run(["eval", runDirectory.path, "--data", data.appendingPathComponent("valid.csv").path])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(try String(contentsOf: runDirectory.appendingPathComponent("evaluation.csv"), encoding: .utf8)
            .contains("camera_blocked,accuracy,") && other.stdout.contains(data.appendingPathComponent("valid.csv").path))

        // explain: chosen rows, in text and JSON.
        let explained = try run(["explain", runDirectory.path, "--rows", "3,0"])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.hasPrefix("├── row 3\n│   └── camera_blocked | decoded: "))
        #expect(explained.stdout.contains("└── row 0\n    └── camera_blocked | decoded: "))
        let json = try run(["explain", runDirectory.path, "--limit", "2", "--format", "json"])
        #expect(json.status == 0)
        let samples = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(samples?.map { $0["row"] as? Int } == [0, 1])
        let missing = try run(["explain", runDirectory.path, "--rows", "100000"])
        #expect(missing.status == 2 && missing.stderr.contains("has no row 100000 in test"))

        // predict ignores label columns, even ones that would not parse.
        let odd = data.appendingPathComponent("odd-labels.csv")
        let testHeader = String(try String(contentsOf: data.appendingPathComponent("test.csv"), encoding: .utf8)
            .split(separator: "\n")[0])
        let labelCells = [String](repeating: "maybe", count: testHeader.split(separator: ",").count - 1)
        let oddText: String = testHeader + "\nimages/00009.png," + labelCells.joined(separator: ",") + "\n"
        try oddText.write(to: odd, atomically: true, encoding: .utf8)
        let ignoring = try run(["predict", runDirectory.path, "--data", odd.path, "--out", "-"])
        #expect(ignoring.status == 0, "\(ignoring.stderr)")

        // predict on rows without any label column.
        let unlabelled = data.appendingPathComponent("unlabelled.csv")
        let images = try String(contentsOf: data.appendingPathComponent("test.csv"), encoding: .utf8)
            .split(separator: "\n").map { String($0.split(separator: ",")[0]) }
        #expect(images[0] == "image")
        try (images.prefix(6).joined(separator: "\n") + "\n").write(to: unlabelled, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("new.csv")
        let predicted = try run(["predict", runDirectory.path, "--data", unlabelled.path, "--out", out.path])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6 && lines[1].hasPrefix("0,"))
        // The same rows decide as in eval's predictions (the same thresholds, the same model); the
        // numbers agree to float rounding (the matrix products ran at another batch size).
        let header = predictions[0].split(separator: ",", omittingEmptySubsequences: false)
        for r in 1...5 {
            let mine = lines[r].split(separator: ",", omittingEmptySubsequences: false)
            let eval = predictions[r].split(separator: ",", omittingEmptySubsequences: false)
            #expect(mine.count == header.count && eval.count == header.count)
            for (c, name) in header.enumerated() where c < mine.count && c < eval.count {
                if let a = Double(mine[c]), let b = Double(eval[c]), mine[c].contains(".") || name.hasSuffix(".logits") {
                    #expect(abs(a - b) <= 1e-3 * max(1, abs(b)), "row \(r) \(name)")
                } else if !name.hasSuffix(".logits") && !name.hasSuffix(".activated") {
                    #expect(mine[c] == eval[c], "row \(r) \(name)")
                }
            }
        }
    }

    @Test func badArgumentsExitTwo() throws {
        let badMetric = try run(["tune-thresholds", "/tmp", "--metric", "f2"])
        #expect(badMetric.status == 2 && badMetric.stderr.contains("--metric must be f1, accuracy, youden"))
        let both = try run(["explain", "/tmp", "--rows", "1", "--limit", "2"])
        #expect(both.status == 2 && both.stderr.contains("give --rows or --limit, not both"))
        let threads = try run(["predict", "/no/such/run", "--data", "x.csv", "--threads", "2147483648"])
        #expect(threads.status == 2 && threads.stderr.contains("--threads must be 1 to 1024"))
        let notARun = try run(["predict", "/no/such/run", "--data", "x.csv"])
        #expect(notARun.status == 2 && notARun.stderr == "/no/such/run: does not exist\n")
    }
}
