import FileFormats
import FlowSpec
import Foundation
import HandMadePNG
import ProcessGroups
import Testing
@testable import Training

/// The data read in shares by several processes (threads here, `ThreadedProcessGroup`), as
/// under mpirun: the statistics equal one process's bit for bit, the processes' parts of each
/// split put together in rank order equal the split one process encodes, and a problem in any
/// share is thrown on every process as one process reports it.
struct ShardedDataTests {
    static let flowText = """
        name: shares
        data: {train: train.csv, valid: valid.csv, test: test.csv}
        inputs:
          basket: {type: numeric, columns: [price, weight], normalize: standard, missing: mean, encoding: piecewise_linear, bins: 7}
          place: {type: numeric, columns: [distance], normalize: minmax, encoding: piecewise_linear, bins: 5}
          carrier: {type: category, embedding: 2, min_count: 3}
          channel: {type: category, encoding: one_hot}
          note: {type: tokens, max_length: 3, min_count: 2}
        trunk:
          words: {from: note, layers: [embedding: 2, flatten]}
          shared: {from: [basket, place, carrier, channel, words], layers: [dense: 4]}
        flow:
          open: {type: binary}
          colour: {type: classification, when: open}
          tags: {type: multilabel, when: open}
          size: {type: regression}
        """

    /// `rows` rows, every column changing from row to row: holes, rare values, negative zeros,
    /// quoted cells with commas and line ends (so that shares start inside them), a spelling of
    /// a value canonically equal to another (é as one code point and as two).
    /// The rows in `bad` have a price that is not a number.
    static func table(rows: Int, seed: Int, bad: Set<Int> = []) -> String {
        var text = "price,weight,distance,carrier,channel,note,open,colour,tags,size\n"
        for i in 0..<rows {
            let k = (i &* 2_654_435_761 &+ seed) & 0xFFFF_FFFF
            let price = bad.contains(i) ? "abc\(i)" : i % 7 == 0 ? "" : String(Double(k % 1000) / 8)
            let weight = i % 9 == 0 ? "-0.0" : String(Double(k % 37) / 4 - 3)
            let distance = String(Double(k % 500) / 3)
            let carrier = k % 23 == 0 ? "rare\(i)" : ["ups", "dhl", "caf\u{E9}", "cafe\u{301}", "\"fed,ex\""][i % 5]
            let channel = i % 6 == 0 ? "\"web\nshop\"" : ["phone", "", "web"][k % 3]
            let note = ["\"fast, cheap\"", "fast", "\"slow\n\nand cheap\"", "late parcel", ""][k % 5]
            let open = i % 11 == 0 ? "NA" : String(k % 3 == 0 ? 1 : 0)
            let colour = ["red", "green", "blue", "NA"][i % 4]
            let tags = ["none", "x", "x|y", "y"][k % 4]
            let size = i % 5 == 0 ? "" : String(Double(k % 171) / 7)
            text += "\(price),\(weight),\(distance),\(carrier),\(channel),\(note),\(open),\(colour),\(tags),\(size)\n"
        }
        return text
    }

    static let files = ["train.csv": table(rows: 157, seed: 1), "valid.csv": table(rows: 41, seed: 2),
                        "test.csv": table(rows: 23, seed: 3)]

    /// Loads `flow` on `processes` threads at once, each its share.
    static func loadInShares(_ flow: ResolvedFlow, _ processes: Int) -> [Result<TrainingData, any Error>] {
        return ThreadedProcessGroup.run(processes) { group in try TrainingData.load(flow, processes: group) }
    }

    @Test(arguments: [2, 3, 5])
    func sharesEncodeAsOneProcessDoes(processes: Int) throws {
        let (flow, directory) = try TabularEncodingTests.flow(Self.flowText, files: Self.files)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.expectSharesEqualOneProcess(flow, processes)
    }

    /// One file split by a seeded shuffle of its rows: every process draws the same split of
    /// the file's rows, and holds the rows of each split that are in its share.
    @Test(arguments: [2, 3])
    func sharesOfOneFileSplitBySeedEncodeAsOneProcessDoes(processes: Int) throws {
        let text = Self.flowText.replacingOccurrences(of: "{train: train.csv, valid: valid.csv, test: test.csv}",
                                                      with: "{file: all.csv, split: {valid: 0.2, test: 0.1, seed: 5}}")
        let (flow, directory) = try TabularEncodingTests.flow(text, files: ["all.csv": Self.table(rows: 203, seed: 4)])
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.expectSharesEqualOneProcess(flow, processes)
    }

    static func expectSharesEqualOneProcess(_ flow: ResolvedFlow, _ processes: Int) throws {
        let alone = try TrainingData.load(flow)
        let parts = try loadInShares(flow, processes).map { try $0.get() }
        for part in parts { #expect(part.statistics == alone.statistics) }
        #expect(alone.statistics.numeric["basket"]?.indicators == ["price"])
        #expect(alone.statistics.vocabularies["carrier"]?.contains("rare0") == false)
        #expect(parts.contains { $0.train.rows == 0 } == false, "every share holds training rows")
        for name in ["train", "valid", "test"] {
            func split(_ data: TrainingData) -> EncodedSplit? { name == "train" ? data.train : name == "valid" ? data.valid : data.test }
            let whole = try #require(split(alone))
            let pieces = try parts.map { try #require(split($0)) }
            #expect(pieces.map(\.totalRows) == Array(repeating: whole.rows, count: processes))
            #expect(pieces.map(\.firstRow) == pieces.indices.map { r in pieces[..<r].reduce(0) { $0 + $1.rows } })
            #expect(pieces.flatMap(\.sourceRows) == whole.sourceRows, "\(name)")
            for t in whole.targets.indices {
                #expect(pieces.flatMap { $0.targets[t] } == whole.targets[t], "\(name) task \(t)")
                #expect(pieces.flatMap { $0.masks[t] } == whole.masks[t])
                #expect(pieces.flatMap { $0.counts[t] } == whole.counts[t])
                #expect(pieces.flatMap { $0.present[t] } == whole.present[t])
            }
            for (input, values) in whole.inputs {
                #expect(pieces.flatMap { Self.values($0.inputs[input]) } == Self.values(values), "\(name) \(input)")
            }
        }
    }

    /// An input's values as floats, row after row (bit patterns, so that -0 and NaN compare).
    static func values(_ input: EncodedInput?) -> [UInt32] {
        switch input {
        case .floats(let values, _)?: values.map(\.bitPattern)
        case .oneHot(let ids, _)?: ids.map { UInt32(bitPattern: $0) }
        case .bytes(let bytes, _)?: bytes.map(UInt32.init)
        case nil: []
        }
    }

    /// Problems in fields of rows that different processes read: every process throws what one
    /// process reports, the first ten in file order and the count of the others.
    @Test(arguments: [2, 3])
    func problemsInSeveralSharesAreReportedAsByOneProcess(processes: Int) throws {
        // Rows of every share, more than are shown.
        var files = Self.files
        files["train.csv"] = Self.table(rows: 157, seed: 1, bad: Set(stride(from: 3, to: 157, by: 11)))
        let (flow, directory) = try TabularEncodingTests.flow(Self.flowText, files: files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = try #require(#expect(throws: Problem.self) { try TrainingData.load(flow) })
        #expect(alone.unreported > 0, "more problems than are shown")
        for result in Self.loadInShares(flow, processes) {
            #expect(throws: alone) { try result.get() }
        }
    }

    /// A row with a field too many, in the last share: its line in the file.
    @Test func aMalformedRowInALaterShareIsLocatedInTheFile() throws {
        var files = Self.files
        files["train.csv"] = Self.table(rows: 157, seed: 1) + "1,2,3\n"
        let (flow, directory) = try TabularEncodingTests.flow(Self.flowText, files: files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = try #require(#expect(throws: Problem.self) { try TrainingData.load(flow) })
        #expect(alone.description.contains("the row has 3 fields, the header 10"), "\(alone)")
        for result in Self.loadInShares(flow, 3) { #expect(throws: alone) { try result.get() } }
    }

    /// Images are decoded by the process whose share holds their row: the parts' pixels put
    /// together are one process's, and an image that cannot be read is reported as one process
    /// reports it.
    @Test func eachProcessDecodesTheImagesOfItsRows() throws {
        let directory = try temporaryDirectory("shared-images")
        defer { try? FileManager.default.removeItem(at: directory) }
        var table = "image,open\n"
        for i in 0..<14 {
            let png = HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[i, 2 * i], [3 * i, 255 - i]])
            try Data(png).write(to: directory.appendingPathComponent("\(i).png"))
            table += "\(i).png,\(i % 2)\n"
        }
        try table.write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let text = """
            name: images
            data: {train: train.csv}
            inputs:
              image: {type: image, column: image, shape: [2, 2, 3]}
            trunk:
              body: {from: image, layers: [conv: {filters: 2, kernel: 1}, relu, global_avgpool]}
            flow:
              open: {type: binary}
            """
        try text.write(to: directory.appendingPathComponent("flow.yaml"), atomically: true, encoding: .utf8)
        let flow = try FlowLoader.load(path: directory.appendingPathComponent("flow.yaml").path)
        let alone = try TrainingData.load(flow)
        let parts = try Self.loadInShares(flow, 3).map { try $0.get() }
        #expect(parts.allSatisfy { $0.train.rows > 0 })
        #expect(parts.flatMap { Self.values($0.train.inputs["image"]) } == Self.values(alone.train.inputs["image"]))

        try Data([1, 2, 3]).write(to: directory.appendingPathComponent("12.png"))
        let problem = try #require(#expect(throws: Problem.self) { try TrainingData.load(flow) })
        for result in Self.loadInShares(flow, 3) { #expect(throws: problem) { try result.get() } }
    }

    /// Each process's rows of every batch, put together, are the batch one process draws (a
    /// shuffle, plain or stratified, and a balanced draw from every process's counts).
    @Test(arguments: [Sampling.shuffle, .stratified, .balanced])
    func everyProcessTrainsItsRowsOfEachBatch(sampling: Sampling) throws {
        let (flow, directory) = try TabularEncodingTests.flow(Self.flowText, files: Self.files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = try TrainingData.load(flow)
        let batches = EpochOrder(alone.train, sampling: sampling, seed: 7, processes: SingleProcess())
            .batches(epoch: 2, size: 16, steps: 9)
        let flow2 = flow
        let parts = ThreadedProcessGroup.run(3) { group -> [[Int]] in
            let data = try TrainingData.load(flow2, processes: group)
            let mine = EpochOrder(data.train, sampling: sampling, seed: 7, processes: group).batches(epoch: 2, size: 16, steps: 9)
            return (0..<9).map { s in mine.batch(s).mine.map { data.train.firstRow + $0 } }
        }.map { try? $0.get() }
        for s in 0..<9 {
            let (rows, whole) = batches.batch(s)
            #expect(rows == 16)
            let together = parts.flatMap { $0?[s] ?? [] }
            #expect(together.sorted() == whole.sorted(), "batch \(s)")
        }
    }

    /// With a stratified shuffle, each of 3 processes holds within two rows of its share of
    /// every batch (a plain shuffle's parts of 16 rows spread binomially, by ±3 rows at once):
    /// the processes of a step wait for one another no longer than those rows take.
    @Test func aStratifiedShuffleGivesEveryProcessItsShareOfEachBatch() throws {
        let (flow, directory) = try TabularEncodingTests.flow(Self.flowText, files: Self.files)
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow2 = flow
        let shares = ThreadedProcessGroup.run(3) { group -> (share: Double, parts: [Int]) in
            let data = try TrainingData.load(flow2, processes: group)
            let batches = EpochOrder(data.train, sampling: .stratified, seed: 7, processes: group)
                .batches(epoch: 1, size: 16, steps: 9)
            return (Double(data.train.rows) / Double(data.train.totalRows), (0..<9).map { batches.batch($0).mine.count })
        }.map { try? $0.get() }
        for case let (share, parts)? in shares {
            #expect(parts.allSatisfy { abs(Double($0) - 16 * share) < 2 }, "\(parts) of 16 with share \(share)")
        }
        #expect(shares.allSatisfy { $0 != nil })
    }
}
