import Foundation
import Testing

/// Tabular runs as a user drives them: category values the training split never had, at
/// `eval --data` and `predict`, are never an error; regression outputs come back in the label's
/// units.
struct CategoryCommandTests {
    /// The parts of state.json read here.
    struct RunState: Decodable {
        struct Statistics: Decodable {
            var vocabularies: [String: [String]]
            var regression: [String: Standardization]
        }
        struct Standardization: Decodable {
            var mean: Double
            var deviation: Double
        }
        var statistics: Statistics

        init(_ run: URL) throws {
            self = try JSONDecoder().decode(Self.self, from: Data(contentsOf: run.appendingPathComponent("state.json")))
        }
    }

    /// A predictions.csv read back: its header and rows of fields.
    func table(_ text: String) -> (header: [String], rows: [[String]]) {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines.first ?? [], Array(lines.dropFirst()))
    }

    func column(_ name: String, _ table: (header: [String], rows: [[String]])) throws -> [String] {
        let index = try #require(table.header.firstIndex(of: name), "no column \(name) in \(table.header)")
        return table.rows.map { $0[index] }
    }

    /// A carrier (embedded; the training split has empty cells) and a distance, one binary task.
    @Test func unseenAndEmptyCategoriesAtEvalAndPredict() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: carriers
            data: {train: train.csv, valid: valid.csv}
            inputs:
              carrier: {type: category, embedding: 3}
              x: {type: numeric, columns: [distance]}
            trunk:
              joined: {from: [carrier, x], layers: [dense: 4, tanh]}
            flow:
              late: {type: binary}
            train:
              epochs: 2
              batch_size: 4
              seed: 5
            """, "flow.yaml", in: directory)
        var train = "carrier,distance,late\n"
        for row in 0..<16 {
            let carrier = ["ups", "dhl", "", "ups"][row % 4]
            train += "\(carrier),\(row % 5 * 10),\(row % 3 == 0 ? 1 : 0)\n"
        }
        try write(train, "train.csv", in: directory)
        try write("carrier,distance,late\nups,10,1\n,20,0\ndhl,30,1\nups,0,0\n", "valid.csv", in: directory)
        // Two values never seen in training, an empty cell, a known value; the same distance.
        try write("carrier,distance,late\nzzz,10,1\nyyy,10,0\n,10,1\nups,10,0\n", "labelled.csv", in: directory)
        try write("carrier,distance\nzzz,10\nyyy,10\n,10\nups,10\n", "unlabelled.csv", in: directory)

        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                                "--threads", "1"])
        #expect(training.status == 0, "\(training.stderr)")

        // The vocabulary: the unknown slot, then the training values sorted, the empty one first.
        #expect(try RunState(runDirectory).statistics.vocabularies["carrier"] == ["<unknown>", "", "dhl", "ups"])

        // eval on the labelled file: exit 0, every row counted.
        let labelled = directory.appendingPathComponent("labelled.csv").path
        let evaluation = try run(["eval", runDirectory.path, "--data", labelled, "--threads", "1"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let rows = try String(contentsOf: runDirectory.appendingPathComponent("evaluation.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("late,accuracy,") && $0.hasSuffix(",4,ground_truth,\(labelled)") },
                "\(rows)")
        let evaluated = table(try String(contentsOf: runDirectory.appendingPathComponent("predictions.csv"), encoding: .utf8))

        // predict on the file without labels: exit 0, a row per data row.
        let out = directory.appendingPathComponent("predicted.csv")
        let prediction = try run(["predict", runDirectory.path, "--data", directory.appendingPathComponent("unlabelled.csv").path,
                                  "--out", out.path, "--threads", "1"])
        #expect(prediction.status == 0, "\(prediction.stderr)")
        let predicted = table(try String(contentsOf: out, encoding: .utf8))
        #expect(try column("row", predicted) == ["0", "1", "2", "3"])

        for (name, result) in [("eval", evaluated), ("predict", predicted)] {
            let logits = try column("late.logits", result).map { try #require(Double($0), "\(name): \($0)") }
            try #require(logits.count == 4)
            // zzz and yyy both read as the unknown slot: the same outputs (the same distance).
            #expect(abs(logits[0] - logits[1]) <= 1e-6 * max(1, abs(logits[0])), "\(name): \(logits)")
            #expect(try column("late.decoded", result)[0] == column("late.decoded", result)[1])
            // The empty cell is its own entry, and ups another: each its own embedding row.
            #expect(abs(logits[2] - logits[0]) > 1e-4, "\(name): \(logits)")
            #expect(abs(logits[3] - logits[0]) > 1e-4 && abs(logits[3] - logits[2]) > 1e-4, "\(name): \(logits)")
        }
        // eval and predict agree on the same rows.
        #expect(try column("late.logits", evaluated).map { Float($0)! } == column("late.logits", predicted).map { Float($0)! })
    }

    /// Targets around 1000: the loss sees them standardised (so it is of order 1, not 10⁴), the
    /// decoded predictions and the metrics are in the label's units.
    @Test func regressionPredictionsAndMetricsAreInTheLabelsUnits() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: prices
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [size]}
            trunk:
              t: {from: x, layers: [dense: 4, tanh]}
            flow:
              price: {type: regression}
            train:
              epochs: 3
              batch_size: 8
              seed: 2
            """, "flow.yaml", in: directory)
        var csv = "size,price\n"
        var labels: [Double] = []
        for row in 0..<40 {
            let price = 1000 + 20 * Double(row % 10) - 90 + Double(row % 3)  // 910 … 1092
            labels.append(price)
            csv += "\(row % 10),\(price)\n"
        }
        try write(csv, "train.csv", in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                                "--threads", "1"])
        #expect(training.status == 0, "\(training.stderr)")

        // state.json: the training labels' mean and (population) standard deviation.
        let mean = labels.reduce(0, +) / 40
        let deviation = (labels.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 40).squareRoot()
        let standard = try #require(try RunState(runDirectory).statistics.regression["price"])
        #expect(abs(standard.mean - mean) < 1e-9 && abs(standard.deviation - deviation) < 1e-9,
                "\(standard), expected mean \(mean), deviation \(deviation)")

        // The first epoch's training loss is on standardised targets: raw ones would give ~10⁶.
        let metrics = try String(contentsOf: runDirectory.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let firstLoss = try #require(metrics.first { $0.prefix(4) == ["1", "train", "price", "loss"] }.flatMap { Double($0[4]) })
        #expect(firstLoss > 0 && firstLoss < 10, "loss \(firstLoss)")
        // Its mean absolute error, though, is in the label's units (labels spread ±90 around 1000;
        // a standardised error would be below 2).
        let trainingError = try #require(metrics.last { $0.prefix(4) == ["3", "train", "price", "mean_absolute_error"] }
            .flatMap { Double($0[4]) })
        #expect(trainingError > 5 && trainingError < 200, "mean_absolute_error \(trainingError)")

        let evaluation = try run(["eval", runDirectory.path, "--split", "train", "--threads", "1"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let predictions = table(try String(contentsOf: runDirectory.appendingPathComponent("predictions.csv"), encoding: .utf8))
        let decoded = try column("price.decoded", predictions).map { try #require(Double($0)) }
        let activated = try column("price.activated", predictions).map { try #require(Double($0)) }
        try #require(decoded.count == 40)
        #expect(try column("row", predictions) == (0..<40).map(String.init))  // file order, as `labels`
        // decoded = activated × deviation + mean, and near the labels (910 … 1092).
        let undone = (0..<40).filter { abs(decoded[$0] - (activated[$0] * deviation + mean)) >= 1e-3 }
        #expect(undone.isEmpty, "rows whose decoded value is not activated × \(deviation) + \(mean): \(undone)")
        #expect(decoded.allSatisfy { $0 > 700 && $0 < 1300 }, "\(decoded)")
        // evaluation.csv's mean absolute error is that of the decoded predictions, in the label's units.
        let mae = zip(decoded, labels).map { abs($0 - $1) }.reduce(0, +) / 40
        let rows = try String(contentsOf: runDirectory.appendingPathComponent("evaluation.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let reported = try #require(rows.first { $0.prefix(2) == ["price", "mean_absolute_error"] && $0[4] == "ground_truth" })
        let value = try #require(Double(reported[2]))
        #expect(reported[3] == "40")
        #expect(abs(value - mae) < 1e-3 * max(1, mae), "evaluation.csv \(value), from predictions.csv \(mae)")
        #expect(mae > 1, "a mean absolute error of \(mae) looks standardised")
    }
}
