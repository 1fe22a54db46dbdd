import Foundation
import Testing

/// `flowtrain train` under `mpirun -np N`, each process reading its share of the data files:
/// the statistics in state.json are one process's bit for bit, the metrics of every epoch and
/// the final weights one process's up to the order of float sums, a process that holds none
/// of a task's labels (or none of a batch's rows) trains all the same, and bad data in a share
/// ends the whole job with the message one process gives.
@Suite(.serialized)
struct ShardedTrainingTests {
    /// A flow with every kind of statistics the training split teaches: standard and min-max
    /// normalisation, missing values replaced by the mean (an indicator column), quantile bins,
    /// a category with `min_count`, classes and labels read from the data, a regression's
    /// standardisation, and a precondition.
    static func flow(data: String, train: String) -> String {
        """
        name: sharded
        data: \(data)
        inputs:
          basket: {type: numeric, columns: [price, weight], normalize: standard, missing: mean, encoding: piecewise_linear, bins: 6, dimension: 3}
          place: {type: numeric, columns: [distance], normalize: minmax}
          carrier: {type: category, embedding: 2, min_count: 4}
          channel: {type: category, encoding: one_hot}
        trunk:
          shared: {from: [basket, place, carrier, channel], layers: [dense: 12, relu, layernorm, dense: 8, relu]}
        flow:
          open: {type: binary}
          colour: {type: classification, when: open}
          tags: {type: multilabel, when: open}
          size: {type: regression, head: [dense: 4, relu]}
        train: {seed: 3, \(train)}
        """
    }

    /// `rows` rows, each a function of its number; quoted cells (some with line ends) so that
    /// shares start inside them. `colourUntil`: rows from there on have no colour label.
    static func table(rows: Int, seed: Int, colourUntil: Int = .max, badRow: Int? = nil) -> String {
        var text = "price,weight,distance,carrier,channel,open,colour,tags,size\n"
        for i in 0..<rows {
            let k = (i &* 2_654_435_761 &+ seed * 7919) & 0xFFFF
            let price = i == badRow ? "12.5kg" : i % 7 == 0 ? "" : String(Double(k % 1000) / 8)
            let weight = String(Double(k % 37) / 4 - 3)
            let distance = String(Double(k % 500) / 3)
            let carrier = k % 19 == 0 ? "rare\(i)" : ["ups", "dhl", "\"fed,ex\"", "post"][i % 4]
            let channel = i % 6 == 0 ? "\"web\nshop\"" : ["phone", "", "web"][k % 3]
            let open = (k / 3) % 2 == 0
            let colour = !open || i >= colourUntil ? "" : ["red", "green", "blue"][(k / 7) % 3]
            let tags = ["none", "x", "x|y", "y"][(k / 5) % 4]
            let size = Double(k % 171) / 7 + (open ? 3 : 0)
            text += "\(price),\(weight),\(distance),\(carrier),\(channel),\(open ? 1 : 0),\(colour),\(tags),\(size)\n"
        }
        return text
    }

    /// Writes the flow and its files into a fresh directory; returns the flow's path.
    static func write(_ flow: String, files: [String: String]) throws -> (flow: String, directory: URL) {
        let directory = try scratchDirectory()
        for (name, text) in files { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let path = directory.appendingPathComponent("flow.yaml")
        try flow.write(to: path, atomically: true, encoding: .utf8)
        return (path.path, directory)
    }

    static let files = ["train.csv": table(rows: 360, seed: 1), "valid.csv": table(rows: 90, seed: 2), "test.csv": table(rows: 30, seed: 3)]

    @Test(arguments: [2, 3])
    func processesTrainAsOneDoes(processes: Int) throws {
        let (flow, directory) = try Self.write(
            Self.flow(data: "{train: train.csv, valid: valid.csv, test: test.csv}", train: "epochs: 3, batch_size: 32"),
            files: Self.files)
        try Self.expectSameTraining(flow, in: directory, processes: processes)
    }

    /// One file split by a seeded shuffle: every process draws the split of the file's rows.
    @Test(arguments: [2, 3])
    func processesTrainOnOneSplitFileAsOneDoes(processes: Int) throws {
        let (flow, directory) = try Self.write(
            Self.flow(data: "{file: all.csv, split: {valid: 0.2, test: 0.1, seed: 4}}", train: "epochs: 3, batch_size: 32"),
            files: ["all.csv": Self.table(rows: 480, seed: 5)])
        try Self.expectSameTraining(flow, in: directory, processes: processes)
    }

    /// Labels of `colour` only in the first fifth of the training file: the other processes'
    /// shares hold none, and a batch of 2 rows leaves at least one of three processes without
    /// any row at every step.
    @Test func processesWithoutATasksLabelsOrABatchsRowsTrainAsOneDoes() throws {
        var files = Self.files
        files["train.csv"] = Self.table(rows: 360, seed: 1, colourUntil: 72)
        let (flow, directory) = try Self.write(
            Self.flow(data: "{train: train.csv, valid: valid.csv, test: test.csv}", train: "epochs: 2, batch_size: 2"),
            files: files)
        try Self.expectSameTraining(flow, in: directory, processes: 3)
    }

    /// A price that is not a number on a row only the last process reads: the job ends with exit 2
    /// and the message one process gives, from process 0 alone.
    @Test func badDataInALaterShareEndsTheJobAsOneProcessReportsIt() throws {
        var files = Self.files
        files["train.csv"] = Self.table(rows: 360, seed: 1, badRow: 350)
        let (flow, directory) = try Self.write(
            Self.flow(data: "{train: train.csv, valid: valid.csv, test: test.csv}", train: "epochs: 1, batch_size: 32"),
            files: files)
        let alone = try run(["train", flow, "--run-dir", directory.appendingPathComponent("one").path])
        #expect(alone.status == 2)
        let message = try #require(alone.stderr.split(separator: "\n").first.map(String.init))
        #expect(message.contains("train.csv:") && message.contains("column 'price'"), "\(message)")
        for processes in [2, 3] {
            let started = Date()
            let together = try DataParallelTests.mpiFlowtrain(processes, ["train", flow, "--run-dir",
                                                                          directory.appendingPathComponent("n\(processes)").path])
            #expect(together.status == 2, "\(together.stderr)")
            #expect(together.stderr.components(separatedBy: message).count == 2, "once, from process 0: \(together.stderr)")
            #expect(Date().timeIntervalSince(started) < 60)
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("n\(processes)").path))
        }
    }

    /// Trains `flow` alone and in `processes` processes and compares: the statistics exactly,
    /// the metrics and the weights within a tolerance, but for the elements `noiseOnly` names
    /// (by tensor), whose exact gradient is zero: what they receive is rounding noise, which
    /// Adam scales to steps of the learning rate's size whatever its sign and order.
    static func expectSameTraining(_ flow: String, in directory: URL, processes: Int,
                                   noiseOnly: [String: Range<Int>] = [:]) throws {
        let one = directory.appendingPathComponent("one"), many = directory.appendingPathComponent("many")
        let alone = try run(["train", flow, "--run-dir", one.path, "--threads", "1"])
        try #require(alone.status == 0, "\(alone.stderr)")
        let together = try DataParallelTests.mpiFlowtrain(processes, ["train", flow, "--run-dir", many.path, "--threads", "1"])
        try #require(together.status == 0, "\(together.stderr)")
        #expect(together.stdout == many.path + "\n")
        // The summary counts every process's rows.
        let summary = { (text: String) in text.split(separator: "\n").first { $0.hasPrefix("training sharded:") }?.split(separator: "(").first }
        #expect(summary(alone.stderr) == summary(together.stderr), "\(together.stderr)")

        // Everything the training split teaches, bit for bit (the numbers as written, parsed).
        let statistics = try Self.statistics(in: one), statisticsTogether = try Self.statistics(in: many)
        #expect(statistics.count > 0 && statistics == statisticsTogether)

        // Each step's gradient is summed per process, then over the processes, and the
        // validation sums too: the numbers differ from one process's in their last float digits
        // and drift a little over the steps (measured: up to 1.6e-7 relative in the metrics and
        // 1.2e-7 in the weights, over 2 or 3 epochs). 1e-5 relative (1e-7 absolute near 0)
        // leaves room for that; a wrong divisor, a row trained twice or missed, a part of the
        // validation split left out change the numbers from their first digits.
        let expected = try DataParallelTests.metrics(in: one), actual = try DataParallelTests.metrics(in: many)
        #expect(expected.count == actual.count && expected.count > 40)
        for (e, a) in zip(expected, actual) {
            #expect(e.key == a.key)
            #expect(abs(e.value - a.value) <= max(1e-7, 1e-5 * abs(e.value)), "\(e.key): \(e.value) alone, \(a.value) with \(processes)")
        }
        let weights = try DataParallelTests.tensors(in: one.appendingPathComponent("model-last.safetensors"))
        let weightsTogether = try DataParallelTests.tensors(in: many.appendingPathComponent("model-last.safetensors"))
        #expect(weights.keys.sorted() == weightsTogether.keys.sorted() && !weights.isEmpty)
        for (name, values) in weights {
            let other = weightsTogether[name] ?? []
            #expect(values.count == other.count, "\(name)")
            let compared = zip(values, other).enumerated().filter { noiseOnly[name]?.contains($0.offset) != true }
            let largest = compared.map { abs($0.element.0 - $0.element.1) / max(1, abs($0.element.0)) }.max() ?? 0
            #expect(largest <= 1e-5, "\(name): weights differ by \(largest)")
        }
    }

    /// state.json's statistics, parsed.
    static func statistics(in run: URL) throws -> NSDictionary {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("state.json")))
        return ((json as? [String: Any])?["statistics"] as? NSDictionary) ?? [:]
    }
}

extension ShardedTrainingTests {
    /// Support tickets through a transformer, with a token tagger and a masked language model
    /// beside a sentence task: the masking is drawn by each row's place in the whole split, so
    /// the processes hide the tokens one process hides, and the token losses divide by the
    /// tokens of the whole batch. Dropout is off: under mpirun it draws per step and rank.
    @Test func tokenTasksTrainAsOneDoes() throws {
        let directory = try scratchDirectory()
        let written = try run(["datasets", "tickets", "--out", directory.path, "--n", "400", "--seed", "3"])
        try #require(written.status == 0, "\(written.stderr)")
        let flow = directory.appendingPathComponent("flow.yaml")
        try """
            name: sharded
            data: {train: train.csv, valid: valid.csv, test: test.csv}
            inputs:
              text: {type: tokens, max_length: 24, lowercase: true}
            trunk:
              encoder: {from: text, layers: [embedding: 16, positional, conv1d: {filters: 16, kernel: 3},
                                             transformer: {heads: 2, hidden: 32, dropout: 0}]}
              sentence: {from: encoder, layers: [pool: mean]}
            flow:
              tags: {type: token_classification, input: encoder}
              words: {type: masked_language_model, input: encoder, rate: 0.2, weight: 0.5}
              is_bug: {type: binary, input: sentence}
            train: {seed: 3, epochs: 2, batch_size: 16}
            """.write(to: flow, atomically: true, encoding: .utf8)
        // The key projection's bias adds the same q·b to every score of a query, which the
        // softmax takes away: its exact gradient is zero (measured: 3e-4 apart after 2 epochs,
        // every other weight within 1e-6).
        try Self.expectSameTraining(flow.path, in: directory, processes: 2,
                                    noiseOnly: ["trunk.encoder.3.transformer.attention.qkv.bias": 16..<32])
    }
}
