import Engine
import FlowSpec
import Foundation

/// A flow's data, read and encoded: the statistics learnt from the training split and the
/// train, validation and test splits. Every problem is reported with its file, line and column.
public struct TrainingData: Sendable {
    public let statistics: DataStatistics
    /// The directory the data paths are relative to.
    public let flowDirectory: String
    public let train: EncodedSplit
    public let valid: EncodedSplit?
    public let test: EncodedSplit?

    /// Reads the flow's data files, paths relative to `flowDirectory` (default: the flow file's
    /// directory). With `statistics` (a run's), the data is encoded with them instead of
    /// learning new ones from the training split.
    public static func load(_ flow: ResolvedFlow, flowDirectory: String? = nil,
                            statistics: DataStatistics? = nil) throws(DataError) -> TrainingData {
        let base = flowDirectory.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: flow.flow.file).deletingLastPathComponent().standardizedFileURL
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        let data = flow.flow.data
        var sources: [(name: String, table: CSVTable, rows: [Int])] = []
        func table(_ path: String) throws(DataError) -> CSVTable {
            do { return try CSVTable.read(path: resolve(path)) } catch {
                throw DataError(file: error.file, line: error.line, message: error.message)
            }
        }
        let primary = try table(data.file ?? data.train ?? "")
        var trainRows = Array(0..<primary.rowCount)
        var splitRows: [String: [Int]] = [:]
        if let split = data.split {
            // A seeded shuffle decides which rows are held out; each split keeps file order.
            var random = Random(seed: UInt64(split.seed))
            var order = trainRows
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            let validCount = data.valid == nil ? Int((split.valid * Double(order.count)).rounded()) : 0
            let testCount = data.test == nil ? Int((split.test * Double(order.count)).rounded()) : 0
            splitRows["valid"] = order.prefix(validCount).sorted()
            splitRows["test"] = order.dropFirst(validCount).prefix(testCount).sorted()
            trainRows = order.dropFirst(validCount + testCount).sorted()
        }
        sources.append(("train", primary, trainRows))
        for name in ["valid", "test"] {
            if let path = name == "valid" ? data.valid : data.test {
                let other = try table(path)
                sources.append((name, other, Array(0..<other.rowCount)))
            } else if let rows = splitRows[name], !rows.isEmpty {
                sources.append((name, primary, rows))
            }
        }
        guard !trainRows.isEmpty else {
            throw DataError(file: primary.file, message: "has no rows to train on")
        }
        let encoder: SplitEncoder
        if let statistics {
            encoder = SplitEncoder(flow: flow, statistics: statistics)
        } else {
            encoder = try SplitEncoder(flow: flow, train: primary, trainRows: trainRows)
        }
        var splits: [String: EncodedSplit] = [:]
        for source in sources {
            splits[source.name] = try encoder.encode(source.name, source.table, rows: source.rows)
        }
        return TrainingData(statistics: encoder.statistics, flowDirectory: base.path, train: splits["train"]!,
                            valid: splits["valid"], test: splits["test"])
    }
}
