import FileFormats
import Foundation
import Testing
@testable import Evaluation
import Training

/// `thresholds.yaml` written and read back, with names that need quoting and numbers that
/// every YAML reader takes for floats.
struct ThresholdsTests {
    static let sample = Thresholds(split: "valid", metric: "precision@0.9", tasks: [
        ("door_open", .binary(.init(threshold: 0.43127, metric: "precision@0.9", before: 0.9, after: 0.95, rows: 120))),
        ("a.faces: \"odd\"", .labels([
            ("hat", .init(threshold: 1e-05, metric: "precision@0.9", before: 0.5, after: 0.75, rows: 40)),
            ("beard, full", .init(threshold: 0.99999994, metric: "precision@0.9", before: 0, after: 1, rows: 40)),
        ])),
    ])

    @Test func roundTripsThroughTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thresholds-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = Self.sample.yaml()
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Thresholds.read(path: path) == Self.sample)
        // A float in every YAML reader's eyes, even in exponent form.
        #expect(yaml.contains("threshold: 1.0e-05,"))
        #expect(yaml.contains("      \"beard, full\": {threshold: 0.99999994,"))
        #expect(try Thresholds.read(path: path + ".absent") == nil)
    }

    @Test func decodersGetThresholdsInLabelOrderAndHalfElsewhere() {
        #expect(Self.sample.values(for: "door_open", names: []) == [0.43127])
        #expect(Self.sample.values(for: "a.faces: \"odd\"", names: ["glasses", "beard, full", "hat"]) == [0.5, 0.99999994, 1e-05])
        #expect(Self.sample.values(for: "other", names: []) == nil)
    }

    @Test func aBrokenFileIsALocatedError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thresholds-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "split: valid\ntasks:\n  door_open: {threshold: high}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: Problem.self) { try Thresholds.read(path: path) }
        do { _ = try Thresholds.read(path: path) } catch {
            #expect(error.description == "\(path):3: needs 'threshold:' with a number")
        }
    }

    /// Entries that cannot apply are errors naming the entry, not thresholds left at 0.5.
    @Test(arguments: [
        ("tasks:\n  door_opn: {threshold: 0.4}\n", "2: 'door_opn' is not a binary or multilabel task of this run (did you mean 'door_open'?)"),
        ("tasks:\n  tags:\n    labels:\n      hta: {threshold: 0.4}\n", "4: 'hta' is not a label of 'tags' (did you mean 'hat'?)"),
        ("tasks:\n  door_open: {threshold: 7}\n", "2: threshold 7.0 is outside [0, 1], the range of an activated score"),
        ("tasks:\n  tags: {threshold: 0.3}\n", "2: 'tags' is a multilabel task: give each label a threshold under labels:"),
        ("tasks:\n  door_open: {labels: {hat: {threshold: 0.3}}}\n", "2: 'door_open' is a binary task: it takes threshold:, not labels:"),
        ("tasks:\n  door_open: {threshold: 0.3}\n  door_open: {threshold: 0.6}\n", "3: 'door_open' appears twice"),
    ])
    func entriesThatCannotApplyAreErrors(_ text: String, _ expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thresholds-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Thresholds.read(path: path, decisions: ["door_open": [], "tags": ["hat", "glasses"]])
            Issue.record("no error for \(text)")
        } catch {
            #expect(error.description == "\(path):\(expected)")
        }
    }
}
