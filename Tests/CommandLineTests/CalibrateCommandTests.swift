import Foundation
import FoundationXML
import Testing

/// `flowtrain calibrate` on a small orders run (binary, classification and multilabel tasks
/// behind preconditions, and regressions that are not calibrated), and every command that
/// reads the temperatures afterwards: eval, predict, explain, tune-thresholds, the report.
struct CalibrateCommandTests {
    /// A CSV file's rows as fields (the orders predictions hold no quoted commas).
    static func rows(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    /// `calibration.yaml`'s entries: per task path, its fields by name.
    static func entries(_ yaml: String) -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for line in yaml.split(separator: "\n") where line.hasPrefix("  \"") {
            let parts = line.split(separator: ":", maxSplits: 1)
            let path = parts[0].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            var fields: [String: String] = [:]
            for field in parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " {}")).components(separatedBy: ", ") {
                let pair = field.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { fields[pair[0]] = pair[1] }
            }
            result[path] = fields
        }
        return result
    }

    @Test func calibrateThenEveryCommandUsesTheTemperatures() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-calibrate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try smallOrdersFlow(in: directory, rows: 4000)
        let data = directory.appendingPathComponent("data")
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", flow.path, "--epochs", "2", "--run-dir", runDirectory.path, "--threads", "1"])
        try #require(training.status == 0, "\(training.stderr)")
        let file = { (name: String) in runDirectory.appendingPathComponent(name) }

        // Thresholds tuned before calibrating: calibrate says they are stale.
        #expect(try run(["tune-thresholds", runDirectory.path]).status == 0)
        let rawThresholds = try String(contentsOf: file("thresholds.yaml"), encoding: .utf8)
        let uncalibrated = try run(["eval", runDirectory.path, "--split", "valid"])
        #expect(uncalibrated.status == 0, "\(uncalibrated.stderr)")
        let before = Self.rows(try String(contentsOf: file("evaluation.csv"), encoding: .utf8))

        let calibrated = try run(["calibrate", runDirectory.path])
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        #expect(calibrated.stdout.hasPrefix("task_path                   temperature  rows"))
        #expect(calibrated.stderr.contains("thresholds.yaml was tuned on other scores: run flowtrain tune-thresholds"))
        let yaml = try String(contentsOf: file("calibration.yaml"), encoding: .utf8)
        #expect(yaml.contains("\nsplit: \"valid\"\ntasks:\n"))
        let entries = Self.entries(yaml)
        // Binary, classification and multilabel tasks, each on its own rows; no regression.
        #expect(Set(entries.keys) == ["cancelled", "cancel_reason", "delivery.shipped_late", "delivery.problems",
                                      "delivery.problems_reported"])
        let validRows = try String(contentsOf: data.appendingPathComponent("valid.csv"), encoding: .utf8)
            .split(separator: "\n").count - 1
        #expect(entries["cancelled"]?["rows"] == String(validRows))
        #expect(Int(entries["cancel_reason"]?["rows"] ?? "") ?? validRows < validRows)
        let temperature = entries.mapValues { Double($0["temperature"] ?? "") ?? .nan }
        #expect(temperature.values.allSatisfy { $0 > 0 })
        let changed = temperature.filter { $0.value != 1 }.keys.sorted()
        try #require(!changed.isEmpty, "no temperature other than 1: \(yaml)")

        // eval on the calibration split: ECE and Brier in both views; under ground truth each
        // task's ECE is calibration.yaml's ece_after, never above the uncalibrated one, and
        // below it where the temperature changed.
        let evaluation = try run(["eval", runDirectory.path, "--split", "valid"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let after = Self.rows(try String(contentsOf: file("evaluation.csv"), encoding: .utf8))
        func value(_ table: [[String]], _ path: String, _ metric: String, _ view: String) -> Double? {
            table.first { $0.count == 6 && $0[0] == path && $0[1] == metric && $0[4] == view }.flatMap { Double($0[2]) }
        }
        for path in entries.keys {
            for view in ["ground_truth", "predicted"] {
                #expect(value(after, path, "brier_score", view) != nil, "\(path) \(view)")
                #expect(value(after, path, "expected_calibration_error", view) != nil, "\(path) \(view)")
            }
            let ece = try #require(value(after, path, "expected_calibration_error", "ground_truth"))
            let old = try #require(value(before, path, "expected_calibration_error", "ground_truth"))
            #expect(abs(ece - (Double(entries[path]?["ece_after"] ?? "") ?? .nan)) <= 1e-12, "\(path)")
            #expect(ece <= old, "\(path): ECE \(old) → \(ece)")
            if temperature[path] != 1 { #expect(ece < old, "\(path): ECE \(old) → \(ece) at T \(temperature[path]!)") }
        }
        #expect(value(after, "delivery.delay_days", "expected_calibration_error", "ground_truth") == nil)

        // predict: activated = σ(logits / T) (the logits stay the head's raw output).
        let predicted = try run(["predict", runDirectory.path, "--data", data.appendingPathComponent("valid.csv").path,
                                 "--out", "-"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let table = Self.rows(predicted.stdout)
        for path in changed where path == "cancelled" || path == "delivery.shipped_late" {
            let activated = try #require(table[0].firstIndex(of: "\(path).activated"))
            let logits = try #require(table[0].firstIndex(of: "\(path).logits"))
            var compared = 0
            for row in table.dropFirst().prefix(50) where !row[activated].isEmpty {
                let z = try #require(Double(row[logits])), a = try #require(Double(row[activated]))
                #expect(abs(a - Self.sigmoid(z / temperature[path]!)) < 1e-6, "\(path): \(a) for logit \(z)")
                if abs(z) > 0.5 { #expect(abs(a - Self.sigmoid(z)) > 1e-6) }
                compared += 1
            }
            #expect(compared > 0)
        }

        // explain: the tree shows the calibrated activation beside the raw logit.
        let explained = try run(["explain", runDirectory.path, "--split", "valid", "--rows", "0", "--format", "json"])
        #expect(explained.status == 0, "\(explained.stderr)")
        let samples = try #require(try JSONSerialization.jsonObject(with: Data(explained.stdout.utf8)) as? [[String: Any]])
        let cancelled = try #require((samples.first?["children"] as? [[String: Any]])?.first { $0["path"] as? String == "cancelled" })
        let z = try #require((cancelled["logits"] as? [Double])?.first)
        let a = try #require((cancelled["activated"] as? [Double])?.first)
        #expect(abs(a - Self.sigmoid(z / temperature["cancelled"]!)) < 1e-6)

        // tune-thresholds now tunes on the calibrated scores: thresholds move with T.
        #expect(try run(["tune-thresholds", runDirectory.path]).status == 0)
        let tunedThresholds = try String(contentsOf: file("thresholds.yaml"), encoding: .utf8)
        func threshold(_ text: String, _ path: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix("  \"\(path)\": {threshold: ") }
                .map { String($0.split(separator: ",")[0]) }
        }
        for path in changed where path == "cancelled" || path == "delivery.shipped_late" || path == "delivery.problems_reported" {
            #expect(threshold(tunedThresholds, path) != nil && threshold(tunedThresholds, path) != threshold(rawThresholds, path),
                    "\(path)")
        }

        // The report: the temperatures, and a reliability diagram per calibrated task.
        let report = try String(contentsOf: file("report.html"), encoding: .utf8)
        #expect(report.contains("<h2>Calibration — temperatures fitted on valid</h2>"))
        #expect(report.contains("<h2>Reliability diagrams (ground-truth preconditions)</h2>"))
        let plots = try FileManager.default.contentsOfDirectory(atPath: file("plots").path)
        #expect(Set(plots.filter { $0.hasPrefix("reliability-") }) == Set(entries.keys.map { "reliability-\($0).svg" }))
        let parser = XMLParser(data: try Data(contentsOf: file("plots/reliability-cancelled.svg")))
        #expect(parser.parse())

        // A bad calibration.yaml stops every command that reads it, at its line and column.
        try (yaml.replacingOccurrences(of: "\"cancelled\":", with: "\"cancelld\":")).write(
            to: file("calibration.yaml"), atomically: true, encoding: .utf8)
        for command in [["eval", runDirectory.path], ["predict", runDirectory.path, "--data", data.appendingPathComponent("valid.csv").path],
                        ["explain", runDirectory.path, "--limit", "1"], ["tune-thresholds", runDirectory.path]] {
            let broken = try run(command)
            #expect(broken.status == 2 && broken.stderr.contains(
                "calibration.yaml:8:3: 'cancelld' is not a task of this run (did you mean 'cancelled'?)"), "\(command[0]): \(broken.stderr)")
        }
        // calibrate itself replaces it, whatever it holds.
        #expect(try run(["calibrate", runDirectory.path]).status == 0)

        // A run without a validation split: calibrate says how to go on.
        let noValid = directory.appendingPathComponent("no-valid")
        try FileManager.default.copyItem(at: runDirectory, to: noValid)
        let flowCopy = noValid.appendingPathComponent("flow.yaml")
        let lines = try String(contentsOf: flowCopy, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try lines.filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("valid:") }.joined(separator: "\n")
            .write(to: flowCopy, atomically: true, encoding: .utf8)
        let missing = try run(["calibrate", noValid.path])
        #expect(missing.status == 2 && missing.stderr.contains("has no valid split (calibrate on another with --split train)"),
                "\(missing.stderr)")
        let untuned = try run(["tune-thresholds", noValid.path])
        #expect(untuned.status == 2 && untuned.stderr.contains("has no valid split (tune on another with --split train)"),
                "\(untuned.stderr)")
        #expect(try run(["calibrate", noValid.path, "--split", "train"]).status == 0)
        #expect(try String(contentsOf: noValid.appendingPathComponent("calibration.yaml"), encoding: .utf8).contains("split: \"train\""))
    }
}
