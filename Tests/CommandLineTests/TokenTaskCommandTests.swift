import Foundation
import Testing

/// Both token tasks through every command after training, on a small tickets run: `eval`
/// measures the tags per token and per entity and the masked language model at masked
/// positions; `predict` and `explain` write a tag per token, none for an empty text, whose
/// sentence tasks still have a defined output; `calibrate` and `tune-thresholds` leave the
/// token tasks out; `export` writes the graph.
struct TokenTaskCommandTests {
    static let flow = """
        name: tickets
        data: {train: train.csv, valid: valid.csv, test: test.csv}
        inputs:
          text: {type: tokens, max_length: 24, lowercase: true}
        trunk:
          encoder: {from: text, layers: [embedding: 16, positional, transformer: {heads: 2, hidden: 32, dropout: 0.1}]}
          sentence: {from: encoder, layers: [pool: mean]}
        flow:
          tags: {type: token_classification, input: encoder}
          words: {type: masked_language_model, input: encoder, weight: 0.3}
          is_bug: {type: binary, input: sentence}
          bug:
            when: is_bug
            flow:
              severity: {type: classification, input: sentence}
        train: {epochs: 2, batch_size: 32, seed: 2}
        """

    @Test func everyCommandHandlesTheTokenTasks() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try run(["datasets", "tickets", "--out", directory.path, "--n", "300", "--seed", "2"])
        try #require(written.status == 0, "\(written.stderr)")
        try write(Self.flow, "flow.yaml", in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                                "--threads", "1"])
        try #require(training.status == 0, "\(training.stderr)")
        func file(_ name: String) throws -> String {
            try String(contentsOf: runDirectory.appendingPathComponent(name), encoding: .utf8)
        }

        let evaluation = try run(["eval", runDirectory.path, "--split", "test"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let table = try file("evaluation.csv")
        for metric in ["tags,accuracy_1,", "tags,f1_score,", "tags,entity_f1,", "words,masked_accuracy,", "words,perplexity,"] {
            #expect(table.contains("\n" + metric), "\(metric) missing from evaluation.csv")
        }

        // An empty text and one of three tokens: no tag for the first, three for the second.
        try write("text\n\"\"\nthe sync fails\n", "texts.csv", in: directory)
        let texts = directory.appendingPathComponent("texts.csv").path
        let predicted = try run(["predict", runDirectory.path, "--data", texts, "--out", directory.appendingPathComponent("p.csv").path])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let rows = try String(contentsOf: directory.appendingPathComponent("p.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        try #require(rows.count == 3)
        let header = rows[0]
        let tags = try #require(header.firstIndex(of: "tags.decoded")), bug = try #require(header.firstIndex(of: "is_bug.activated"))
        #expect(rows[1][tags] == "" && rows[2][tags].split(separator: " ").count == 3, "\(rows)")
        #expect(Double(rows[1][bug]).map { $0 > 0 && $0 < 1 } == true, "the empty text's is_bug: \(rows[1][bug])")
        #expect(!header.contains { $0.hasPrefix("words.") }, "a masked language model predicts nothing")

        let explained = try run(["explain", runDirectory.path, "--data", texts, "--rows", "0,1"])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains("tags | decoded: [], activated: [], logits: []"), "\(explained.stdout)")
        #expect(explained.stdout.contains("is_bug | decoded: "))

        let calibrated = try run(["calibrate", runDirectory.path])
        #expect(calibrated.status == 0, "\(calibrated.stderr)")
        let calibration = try file("calibration.yaml")
        #expect(calibration.contains("\"is_bug\"") && !calibration.contains("\"tags\"") && !calibration.contains("\"words\""))
        let tuned = try run(["tune-thresholds", runDirectory.path])
        #expect(tuned.status == 0, "\(tuned.stderr)")
        #expect(try !file("thresholds.yaml").contains("tags"))

        let exported = try run(["export", runDirectory.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("model.onnx").path))
    }
}
