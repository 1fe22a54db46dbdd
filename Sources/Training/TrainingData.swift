import Engine
import FileFormats
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
    /// How long each phase of reading took.
    public let timings: LoadTimings

    /// Reads the flow's data files, paths relative to `flowDirectory` (default: the flow file's
    /// directory). With `statistics` (a run's), the data is encoded with them instead of
    /// learning new ones from the training split.
    public static func load(_ flow: ResolvedFlow, flowDirectory: String? = nil,
                            statistics: DataStatistics? = nil) throws(Problem) -> TrainingData {
        let base = baseDirectory(flow, flowDirectory)
        var timings = LoadTimings()
        let sources = try timings.time(\.split) { () throws(Problem) in try Self.sources(flow, base: base, only: nil) }
        // A file that holds several splits counts once.
        timings.bytes = Dictionary(sources.map { ($0.table.file, $0.table.byteCount) }, uniquingKeysWith: { a, _ in a })
            .values.reduce(0, +)
        guard let train = sources.first, !train.rows.isEmpty else {
            throw Problem(file: sources.first?.table.file ?? base.path, message: "has no rows to train on")
        }
        let encoder = try timings.time(\.statistics) { () throws(Problem) in
            if let statistics { return SplitEncoder(flow: flow, statistics: statistics) }
            return try SplitEncoder(flow: flow, train: train.table, trainRows: train.rows)
        }
        var splits: [String: EncodedSplit] = [:]
        try timings.time(\.encode) { () throws(Problem) in
            for source in sources {
                splits[source.name] = try encoder.encode(source.name, source.table, rows: source.rows)
            }
        }
        return TrainingData(statistics: encoder.statistics, flowDirectory: base.path, train: splits["train"]!,
                            valid: splits["valid"], test: splits["test"], timings: timings)
    }

    /// One split of a trained run's data (`train`, `valid` or `test`), encoded with the run's
    /// statistics; nil when the flow has no such split. Only the files that split needs are read.
    public static func loadSplit(_ name: String, of flow: ResolvedFlow, flowDirectory: String,
                                 statistics: DataStatistics) throws(Problem) -> EncodedSplit? {
        let base = baseDirectory(flow, flowDirectory)
        guard let source = try sources(flow, base: base, only: name).first(where: { $0.name == name }) else {
            return nil
        }
        return try SplitEncoder(flow: flow, statistics: statistics).encode(name, source.table, rows: source.rows)
    }

    /// Any CSV file (`eval --data`, `predict`, `explain --data`) encoded with a run's statistics.
    /// With `.optional` labels a label column the file lacks counts as missing on every row;
    /// with `.ignored` no label is read.
    public static func loadFile(_ path: String, of flow: ResolvedFlow, statistics: DataStatistics,
                                labels: SplitEncoder.LabelColumns = .optional) throws(Problem) -> EncodedSplit {
        let table = try CSVTable.read(path: path)
        return try SplitEncoder(flow: flow, statistics: statistics)
            .encode("data", table, rows: Array(0..<table.rowCount), labels: labels)
    }

    private static func baseDirectory(_ flow: ResolvedFlow, _ flowDirectory: String?) -> URL {
        flowDirectory.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: flow.flow.file).deletingLastPathComponent().standardizedFileURL
    }

    /// Each split's table and rows, train first. A flow with one file and `split:` holds rows
    /// out by a seeded shuffle (each split keeps file order); `only` skips the other splits'
    /// files.
    private static func sources(_ flow: ResolvedFlow, base: URL,
                                only: String?) throws(Problem) -> [(name: String, table: CSVTable, rows: [Int])] {
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
        }
        func table(_ path: String) throws(Problem) -> CSVTable { try CSVTable.read(path: resolve(path)) }
        let data = flow.flow.data
        var sources: [(name: String, table: CSVTable, rows: [Int])] = []
        var splitRows: [String: [Int]] = [:]
        var primary: CSVTable?
        if data.split != nil || only == nil || only == "train" {
            let train = try table(data.file ?? data.train ?? "")
            primary = train
            var trainRows = Array(0..<train.rowCount)
            if let split = data.split {
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
            sources.append(("train", train, trainRows))
        }
        for name in ["valid", "test"] where only == nil || only == name {
            if let path = name == "valid" ? data.valid : data.test {
                let other = try table(path)
                sources.append((name, other, Array(0..<other.rowCount)))
            } else if let rows = splitRows[name], !rows.isEmpty, let primary {
                sources.append((name, primary, rows))
            }
        }
        return sources
    }
}
