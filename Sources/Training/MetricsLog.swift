import FileFormats
import Foundation
import Tasks

/// `metrics.csv` and the TensorBoard event file, written together after every epoch.
struct MetricsLog {
    static let fileName = "metrics.csv"
    static let header = ["epoch", "split", "task_path", "metric_name", "value", "num_samples"]
    let run: RunDirectory
    private var csv = CSVWriter(header: MetricsLog.header)
    private(set) var events: TensorBoardEventWriter?

    init(run: RunDirectory) { self.run = run }

    /// What a checkpoint records of `metrics.csv` as it stands.
    var recorded: FilePrefix { FilePrefix(of: csv) }

    mutating func open() throws(Problem) {
        try startEvents()
    }

    /// Continues from `metrics.csv` as a checkpoint recorded it: rows written after the
    /// checkpoint are dropped, and the event file is written anew from these rows, so that every
    /// epoch appears once in both.
    mutating func open(continuing text: String) throws(Problem) {
        csv = CSVWriter(continuing: text)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: run.url.path)) ?? []
        for name in files where name.hasPrefix("events.out.tfevents.") { try? FileManager.default.removeItem(atPath: run.path(name)) }
        try startEvents()
        let table: CSVTable
        do { table = try CSVTable.parse(Array(text.utf8), file: run.path(Self.fileName)) } catch {
            throw Problem(file: run.path(Self.fileName), message: "its metrics cannot be read: \(error.message)")
        }
        events?.replay(table, epochColumn: 0, valueColumn: 4) { row in
            "\(table.string(row: row, column: 2))/\(table.string(row: row, column: 3))/\(table.string(row: row, column: 1))"
        }
    }

    private mutating func startEvents() throws(Problem) {
        do { events = try TensorBoardEventWriter(directory: run.url) } catch {
            throw Problem(file: run.url.path, message: "cannot start a TensorBoard event file: \(error.message)")
        }
    }

    mutating func add(epoch: Int, split: String, _ tasks: [CompiledTask], _ result: SplitMetrics) {
        var scalars: [(tag: String, value: Float)] = []
        for (t, task) in tasks.enumerated() {
            let path = task.task.path.description
            let rows = [Metric("loss", result.losses[t].loss, count: result.losses[t].count)] + result.metrics[t]
            for metric in rows where metric.count > 0 {
                csv.append([String(epoch), split, path, metric.name, String(metric.value), String(metric.count)])
                scalars.append(("\(path)/\(metric.name)/\(split)", Float(metric.value)))
            }
        }
        events?.addScalars(scalars, step: epoch, wallTime: Date().timeIntervalSince1970)
    }

    func flush() throws(Problem) {
        try run.write(Self.fileName, Data(csv.text.utf8))
        do { try events?.flush() } catch { throw Problem(file: run.url.path, message: error.message) }
    }
}
