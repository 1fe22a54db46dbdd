import Engine
import FileFormats
import FlowSpec
import Foundation
import ProcessGroups

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
    /// learning new ones from the training split. With several `processes` (`mpirun`), each
    /// reads its share of every file (`DataFileShare`) and holds its part of every split; the
    /// statistics are the whole training split's, and a problem in any share is thrown on every
    /// process, as one process reading the whole would have reported it.
    public static func load(_ flow: ResolvedFlow, flowDirectory: String? = nil, statistics: DataStatistics? = nil,
                            processes: any ProcessGroup = SingleProcess()) throws(Problem) -> TrainingData {
        let base = baseDirectory(flow, flowDirectory)
        var timings = LoadTimings()
        let sources = try timings.time(\.split) { () throws(Problem) in
            try Self.sources(flow, base: base, only: nil, processes: processes)
        }
        // A file that holds several splits counts once.
        timings.bytes = Dictionary(sources.map { ($0.table.file, $0.table.byteCount) }, uniquingKeysWith: { a, _ in a })
            .values.reduce(0, +)
        guard let train = sources.first, train.part.total > 0 else {
            throw Problem(file: sources.first?.table.file ?? base.path, message: "has no rows to train on")
        }
        let encoder = try timings.time(\.statistics) { () throws(Problem) in
            if let statistics { return SplitEncoder(flow: flow, statistics: statistics) }
            return try SplitEncoder(flow: flow, train: train.table, trainRows: train.rows, processes: processes)
        }
        var splits: [String: EncodedSplit] = [:]
        try timings.time(\.encode) { () throws(Problem) in
            for source in sources {
                var (split, problems) = try ProcessAgreement.first(processes) { () throws(Problem) in
                    try encoder.encodeCollecting(source.name, source.table, rows: source.rows, firstRow: source.firstFileRow)
                }
                try problems.gathered(across: processes).check()
                if processes.size > 1 { split.part = source.part }
                splits[source.name] = split
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
        let sources = try sources(flow, base: base, only: name, processes: SingleProcess())
        guard let source = sources.first(where: { $0.name == name }) else { return nil }
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

    /// One split's rows: the table they are in (this process's share of the file, under
    /// `mpirun`) and their rows in it, the file's row of the table's first, and where the rows
    /// are in the whole split.
    private struct Source {
        var name: String
        var table: CSVTable
        var rows: [Int]
        var firstFileRow: Int
        var part: SplitPart
    }

    /// Each split's table and rows, train first. A flow with one file and `split:` holds rows
    /// out by a seeded shuffle of the file's rows (each split keeps file order), the same on
    /// every process; `only` skips the other splits' files.
    private static func sources(_ flow: ResolvedFlow, base: URL, only: String?,
                                processes: any ProcessGroup) throws(Problem) -> [Source] {
        func read(_ path: String) throws(Problem) -> DataFileShare {
            let path = path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardizedFileURL.path
            guard processes.size > 1 else { return DataFileShare(whole: try CSVTable.read(path: path)) }
            return try DataFileShare.read(path, across: processes)
        }
        /// Every row of a file as one split.
        func whole(_ name: String, _ file: DataFileShare) -> Source {
            Source(name: name, table: file.table, rows: Array(0..<file.table.rowCount), firstFileRow: file.firstRow,
                   part: SplitPart(first: file.firstRow, total: file.totalRows))
        }
        let data = flow.flow.data
        var sources: [Source] = []
        var heldOut: [String: Source] = [:]
        if data.split != nil || only == nil || only == "train" {
            let file = try read(data.file ?? data.train ?? "")
            if let split = data.split {
                // Which split each row of the file goes to (0 train, 1 valid, 2 test).
                var random = Random(seed: UInt64(split.seed))
                var order = Array(0..<file.totalRows)
                for i in stride(from: order.count - 1, to: 0, by: -1) {
                    order.swapAt(i, Int(random.next() % UInt64(i + 1)))
                }
                let validCount = data.valid == nil ? Int((split.valid * Double(order.count)).rounded()) : 0
                let testCount = data.test == nil ? Int((split.test * Double(order.count)).rounded()) : 0
                var membership = [UInt8](repeating: 0, count: order.count)
                for row in order.prefix(validCount) { membership[row] = 1 }
                for row in order.dropFirst(validCount).prefix(testCount) { membership[row] = 2 }
                let mine = membership[file.firstRow..<(file.firstRow + file.table.rowCount)]
                for (k, name) in ["train", "valid", "test"].enumerated() {
                    let before = membership[..<file.firstRow].count { $0 == k }
                    let total = before + membership[file.firstRow...].count { $0 == k }
                    let rows = mine.indices.filter { mine[$0] == k }.map { $0 - file.firstRow }
                    let source = Source(name: name, table: file.table, rows: rows, firstFileRow: file.firstRow,
                                        part: SplitPart(first: before, total: total))
                    if k == 0 { sources.append(source) } else { heldOut[name] = source }
                }
            } else {
                sources.append(whole("train", file))
            }
        }
        for name in ["valid", "test"] where only == nil || only == name {
            if let path = name == "valid" ? data.valid : data.test {
                sources.append(whole(name, try read(path)))
            } else if let source = heldOut[name], source.part.total > 0 {
                sources.append(source)
            }
        }
        return sources
    }
}
