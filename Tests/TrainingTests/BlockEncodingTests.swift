import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Large files are learnt from and encoded in blocks of rows on several cores; what comes out
/// must not depend on where the blocks end.
struct BlockEncodingTests {
    static let flowText = """
        name: blocks
        data: {train: train.csv, valid: valid.csv}
        inputs:
          x: {type: numeric, columns: [a, b], normalize: standard, missing: mean}
          kind: {type: category, encoding: one_hot, min_count: 2}
          port: {type: category, embedding: 2}
        trunk:
          shared: {from: [x, kind, port], layers: [dense: 4]}
        flow:
          open: {type: binary}
          reason: {type: classification, when: not open}
          delay: {type: regression, when: open}
          tags: {type: multilabel, when: open}
        """

    /// Row `i` of a table whose every column changes from row to row, with holes and rare values.
    static func table(rows: Int, seed: Int) -> String {
        var text = "a,b,kind,port,open,reason,delay,tags\n"
        for i in 0..<rows {
            let k = i &* 2_654_435_761 &+ seed
            let a = i % 7 == 0 ? "" : String(Double(k % 1000) / 8)
            let b = String(i % 13)
            let kind = k % 50 == 0 ? "rare\(i)" : ["red", "green", "", "blue"][i % 4]
            let port = "p\(k % 9)"
            let open = i % 11 == 0 ? "NA" : String(k % 3 == 0 ? 1 : 0)
            let reason = ["late", "lost", "NA"][i % 3]
            let delay = i % 5 == 0 ? "" : String(Double(i % 17) / 4)
            let tags = ["none", "x", "x|y", "y"][k % 4]
            text += "\(a),\(b),\(kind),\(port),\(open),\(reason),\(delay),\(tags)\n"
        }
        return text
    }

    @Test func blocksEncodeAsRowByRow() throws {
        let rows = 3 * SplitEncoder.blockRows + 17
        let (flow, directory) = try TabularEncodingTests.flow(
            Self.flowText, files: ["train.csv": Self.table(rows: rows, seed: 1), "valid.csv": Self.table(rows: 50, seed: 2)])
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try TrainingData.load(flow)
        let table = try CSVTable.read(path: directory.appendingPathComponent("train.csv").path)

        // Statistics: the numeric column's mean over the rows that have a number, in row order.
        let values = (0..<rows).compactMap { table.number(row: $0, column: 0) }
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(data.statistics.numeric["x"]?.means[0] == Float(mean))
        #expect(data.statistics.numeric["x"]?.indicators == ["a"])
        #expect(data.statistics.vocabularies["kind"] == ["<unknown>", "", "blue", "green", "red"])
        #expect(data.statistics.classes["reason"] == ["late", "lost"])
        #expect(data.statistics.classes["tags"] == ["x", "y"])

        // Encoding: every row alone (one block each) gives the same values as the whole split.
        let encoder = SplitEncoder(flow: flow, statistics: data.statistics)
        for row in [0, 1, SplitEncoder.blockRows - 1, SplitEncoder.blockRows, 2 * SplitEncoder.blockRows + 5, rows - 1] {
            let alone = try encoder.encode("one", table, rows: [row])
            for name in ["x", "kind", "port"] {
                #expect(TabularEncodingTests.rows(alone.inputs[name]) == [TabularEncodingTests.rows(data.train.inputs[name])[row]],
                        "input \(name), row \(row)")
            }
            for t in flow.tasks.indices {
                let width = alone.targets[t].count
                #expect(alone.targets[t] == Array(data.train.targets[t][(row * width)..<((row + 1) * width)]), "row \(row)")
                #expect(alone.masks[t] == Array(data.train.masks[t][(row * width)..<((row + 1) * width)]), "row \(row)")
                #expect(alone.counts[t] == [data.train.counts[t][row]] && alone.present[t] == [data.train.present[t][row]])
            }
        }
        #expect(data.train.rows == rows && data.train.counts.allSatisfy { $0.count == rows })
    }
}
