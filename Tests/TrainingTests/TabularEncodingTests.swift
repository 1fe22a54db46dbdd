import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Tabular inputs as the encoder turns them into numbers (docs/flow-format.md): category
/// vocabularies with `min_count` and the unknown slot, and numeric columns with holes under
/// `missing: mean`, `zero` and `error`. Every expected value is written out by hand from the
/// CSV rows in the test; the values are chosen so that each is exact in float.
struct TabularEncodingTests {
    /// Writes `files` (and the flow as `flow.yaml`) into a fresh directory and loads the flow.
    static func flow(_ text: String, files: [String: String]) throws -> (flow: ResolvedFlow, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-tabular-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, contents) in files {
            try contents.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let path = directory.appendingPathComponent("flow.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (try FlowLoader.load(path: path), directory)
    }

    /// The rows of an encoded input, `sampleSize` values each.
    static func rows(_ input: EncodedInput?) -> [[Float]] {
        switch input {
        case .floats(let values, let size)?:
            return stride(from: 0, to: values.count, by: size).map { Array(values[$0..<($0 + size)]) }
        case .oneHot(let ids, let size)?:
            return oneHot(ids.map(Int.init), width: size)
        default:
            return []
        }
    }

    static func oneHot(_ ids: [Int], width: Int) -> [[Float]] {
        ids.map { id in (0..<width).map { $0 == id ? 1 : 0 } }
    }

    // MARK: - category vocabularies

    /// carrier (one-hot, min_count 2) counts in train: ups 3, empty 2, dhl 1, fedex 1.
    /// port (embedding, min_count 3) counts in train: a 3, b 3, c 1.
    static let vocabularyFlow = """
        name: vocabulary
        data: {train: train.csv, valid: valid.csv, test: test.csv}
        inputs:
          carrier: {type: category, encoding: one_hot, min_count: 2}
          port: {type: category, embedding: 2, min_count: 3}
        trunk:
          joined: {from: [carrier, port], layers: [dense: 2]}
        flow:
          late: {type: binary}
        """

    static let vocabularyFiles = [
        "train.csv": """
            carrier,port,late
            ups,a,1
            ups,a,0
            dhl,a,1
            ,b,0
            ,b,1
            fedex,b,0
            ups,c,1

            """,
        // usps and UPS never occur in training; dhl does, but too rarely; the empty cell is in
        // the vocabulary, as training had it twice.
        "valid.csv": """
            carrier,port,late
            usps,b,1
            dhl,a,0
            ,c,1
            ups,d,0
            UPS,a,1

            """,
        "test.csv": """
            carrier,port,late
            fedex,c,1
            ups,b,0

            """,
    ]

    @Test func valuesSeenFewerThanMinCountTimesGoToTheUnknownSlot() throws {
        let (flow, directory) = try Self.flow(Self.vocabularyFlow, files: Self.vocabularyFiles)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainingData.load(flow)

        // Index 0 is the unknown slot; then the values seen at least min_count times, sorted
        // (the empty string first).
        #expect(data.statistics.vocabularies["carrier"] == ["<unknown>", "", "ups"])
        #expect(data.statistics.vocabularies["port"] == ["<unknown>", "a", "b"])
        #expect(data.statistics.facts.vocabularySize == ["carrier": 3, "port": 3])

        // Train: dhl and fedex (once each) and port c (once) are unknown.
        #expect(Self.rows(data.train.inputs["carrier"]) == Self.oneHot([2, 2, 0, 1, 1, 0, 2], width: 3))
        #expect(Self.rows(data.train.inputs["port"]) == [[1], [1], [1], [2], [2], [2], [0]])
        // Valid: values only seen here (usps, d), rare ones (dhl, c) and another spelling (UPS)
        // read as 0; the empty cell is its own entry; nothing is an error.
        let valid = try #require(data.valid)
        #expect(Self.rows(valid.inputs["carrier"]) == Self.oneHot([0, 0, 1, 2, 0], width: 3))
        #expect(Self.rows(valid.inputs["port"]) == [[2], [1], [0], [0], [1]])
        let test = try #require(data.test)
        #expect(Self.rows(test.inputs["carrier"]) == Self.oneHot([0, 2], width: 3))
        #expect(Self.rows(test.inputs["port"]) == [[0], [2]])

        // A run's statistics encode another file the same way (eval --data, predict).
        let other = directory.appendingPathComponent("other.csv")
        try "carrier,port\n,a\nnever,never\nups,b\n".write(to: other, atomically: true, encoding: .utf8)
        let file = try TrainingData.loadFile(other.path, of: flow, statistics: data.statistics, labels: .ignored)
        #expect(Self.rows(file.inputs["carrier"]) == Self.oneHot([1, 0, 2], width: 3))
        #expect(Self.rows(file.inputs["port"]) == [[1], [0], [2]])
    }

    /// Without min_count every training value is in; an empty cell that training never had
    /// reads as unknown.
    @Test func everyTrainingValueIsInTheVocabularyByDefault() throws {
        let (flow, directory) = try Self.flow("""
            name: plain
            data: {train: train.csv, valid: valid.csv}
            inputs:
              carrier: {type: category, embedding: 2}
            flow:
              late: {type: binary}
            """, files: ["train.csv": "carrier,late\nups,1\ndhl,0\nups,1\n", "valid.csv": "carrier,late\n,1\ndhl,0\nups,1\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainingData.load(flow)
        #expect(data.statistics.vocabularies["carrier"] == ["<unknown>", "dhl", "ups"])
        #expect(Self.rows(data.train.inputs["carrier"]) == [[2], [1], [2]])
        #expect(Self.rows(data.valid?.inputs["carrier"]) == [[0], [1], [2]])
    }

    // MARK: - numeric columns with holes

    /// Training rows (a, b, c): a is empty twice, b twice, c never.
    ///   a: 1, 5, 1, 5 → mean 3, deviation 2, min 1, range 4
    ///   b: 10, 30, 10, 30 → mean 20, deviation 10, min 10, range 20
    ///   c: 4, 8, 4, 8, 4, 8 → mean 6, deviation 2, min 4, range 4
    static let holesFlow = """
        name: holes
        data: {train: train.csv, valid: valid.csv}
        inputs:
          s: {type: numeric, columns: [a, b, c], normalize: standard}
          m: {type: numeric, columns: [a, b, c], normalize: minmax, missing: mean}
          z: {type: numeric, columns: [a, b, c], normalize: standard, missing: zero}
          n: {type: numeric, columns: [a, b], normalize: none, missing: zero}
        trunk:
          joined: {from: [s, m, z, n], layers: [dense: 2]}
        flow:
          y: {type: binary}
        """

    static let holesFiles = [
        "train.csv": """
            a,b,c,y
            1,10,4,1
            5,30,8,0
            ,10,4,1
            1,,8,0
            5,30,4,1
            ,,8,0

            """,
        // c is empty only here: it gets no indicator and reads as its training mean.
        "valid.csv": """
            a,b,c,y
            ,25,,1
            7,,2,0

            """,
    ]

    @Test func missingMeanStatisticsIndicatorsAndValuesAreExact() throws {
        let (flow, directory) = try Self.flow(Self.holesFlow, files: Self.holesFiles)
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainingData.load(flow)
        let numeric = data.statistics.numeric

        // Means from the non-empty training cells only; indicators for a and b, not c.
        #expect(numeric["s"] == NumericStatistics(columns: ["a", "b", "c"], indicators: ["a", "b"],
                                                  offsets: [3, 20, 6], scales: [2, 10, 2], means: [3, 20, 6]))
        #expect(numeric["m"] == NumericStatistics(columns: ["a", "b", "c"], indicators: ["a", "b"],
                                                  offsets: [1, 10, 4], scales: [4, 20, 4], means: [3, 20, 6]))
        // missing: zero adds no indicator.
        #expect(numeric["z"] == NumericStatistics(columns: ["a", "b", "c"], indicators: [],
                                                  offsets: [3, 20, 6], scales: [2, 10, 2], means: [3, 20, 6]))
        #expect(numeric["n"] == NumericStatistics(columns: ["a", "b"], indicators: [],
                                                  offsets: [0, 0], scales: [1, 1], means: [3, 20]))
        #expect(data.statistics.facts.numericWidth == ["s": 5, "m": 5, "z": 3, "n": 2])

        // standard, mean: (x − mean) / deviation; an empty cell becomes the mean (so 0), its
        // indicator 1.
        #expect(Self.rows(data.train.inputs["s"]) == [
            [-1, -1, -1, 0, 0],
            [1, 1, 1, 0, 0],
            [0, -1, -1, 1, 0],
            [-1, 0, 1, 0, 1],
            [1, 1, -1, 0, 0],
            [0, 0, 1, 1, 1],
        ])
        let valid = try #require(data.valid)
        // Valid row 0: a empty (indicator), b 25, c empty (mean, no indicator).
        // Valid row 1: a 7, b empty (indicator), c 2.
        #expect(Self.rows(valid.inputs["s"]) == [[0, 0.5, 0, 1, 0], [2, 0, -2, 0, 1]])
        // minmax, mean: (x − min) / range, an empty cell is the mean before scaling.
        #expect(Self.rows(data.train.inputs["m"]) == [
            [0, 0, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0.5, 0, 0, 1, 0],
            [0, 0.5, 1, 0, 1],
            [1, 1, 0, 0, 0],
            [0.5, 0.5, 1, 1, 1],
        ])
        #expect(Self.rows(valid.inputs["m"]) == [[0.5, 0.75, 0.5, 1, 0], [1.5, 0.5, -0.5, 0, 1]])
        // zero: an empty cell is the value 0, then normalised like any other 0 (a: (0 − 3) / 2,
        // b: (0 − 20) / 10, c: (0 − 6) / 2); no indicator columns.
        #expect(Self.rows(data.train.inputs["z"]) == [
            [-1, -1, -1],
            [1, 1, 1],
            [-1.5, -1, -1],
            [-1, -2, 1],
            [1, 1, -1],
            [-1.5, -2, 1],
        ])
        #expect(Self.rows(valid.inputs["z"]) == [[-1.5, 0.5, -3], [2, -2, -2]])
        #expect(Self.rows(valid.inputs["n"]) == [[0, 25], [7, 0]])
    }

    /// Every empty cell of an input with `missing: error` is reported, located, in file order.
    @Test func missingErrorRejectsTheRowWithItsLocation() throws {
        let (flow, directory) = try Self.flow("""
            name: strict
            data: {train: train.csv}
            inputs:
              e: {type: numeric, columns: [a, b], missing: error}
            flow:
              y: {type: binary}
            """, files: ["train.csv": "a,b,y\n1,2,1\n3,,0\n4,5,1\n,6,0\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train.csv").standardizedFileURL.path
        let error = try #require(throws: Problem.self) { try TrainingData.load(flow) }
        #expect(error.description == """
            \(file):3:2: column 'b': is empty, and input 'e' says missing: error
            \(file):5:1: column 'a': is empty, and input 'e' says missing: error
            """)
    }

    /// A validation file's empty cell is as much an error as a training one.
    @Test func missingErrorAppliesToEverySplit() throws {
        let (flow, directory) = try Self.flow("""
            name: strict
            data: {train: train.csv, valid: valid.csv}
            inputs:
              e: {type: numeric, columns: [a, b], missing: error}
            flow:
              y: {type: binary}
            """, files: ["train.csv": "a,b,y\n1,2,1\n3,4,0\n", "valid.csv": "a,b,y\n1,2,1\n\"\",4,0\n"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("valid.csv").standardizedFileURL.path
        let error = try #require(throws: Problem.self) { try TrainingData.load(flow) }
        #expect(error.description == "\(file):3:1: column 'a': is empty, and input 'e' says missing: error")
    }
}
