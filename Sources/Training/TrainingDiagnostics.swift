import Engine
import FileFormats
import FlowSpec
import Foundation
import ProcessGroups

/// `train.diagnostics` over a run: the layer statistics of each epoch's last training step
/// (`diagnostics.csv`, TensorBoard scalars and histograms under `diagnostics/<layer>/`) and the
/// worst training samples per task (`worst_samples.csv`). The trainer calls it at a few fixed
/// points; a step that is not an epoch's last costs only the per-sample losses.
///
/// Resuming: the checkpoint records how long both CSV files were, as it does `metrics.csv`, and
/// a checkpoint within an epoch keeps the epoch's per-sample losses, so the files end as an
/// uninterrupted run's. The event file, written anew on resume, gets the earlier epochs' scalars back from
/// `diagnostics.csv`; their histograms are not kept.
///
/// With several processes, every one measures and records its part of the batches, and process
/// 0 writes what one process training the whole batches would: the layers' outputs are
/// gathered for the measured step (`LayerMonitor`), and the per-sample losses combined at the
/// epoch's end (`SampleLosses.combine`). Each process holds a stretch of the training split;
/// the per-sample losses are kept by the row's number in the whole split (this process's
/// first row's, `EncodedSplit.firstRow`, plus its own), as one process numbers them.
final class TrainingDiagnostics {
    let model: CompiledModel
    let run: RunDirectory
    private let processes: any ProcessGroup
    private let monitor: LayerMonitor?
    private let losses: SampleLosses?
    /// The number in the whole training split of this process's first row.
    private let firstRow: Int
    private var worst: WorstSamplesLog?
    private var csv = CSVWriter(header: LayerStatistics.header)
    /// The layers as measured on the last step of the current epoch.
    private var measured: [LayerStatistics] = []

    /// Nil when the flow asks for no diagnostics. `processes`: those training together, of
    /// which the first writes.
    init?(_ settings: DiagnosticsSettings, model: CompiledModel, split: EncodedSplit, run: RunDirectory,
          processes: any ProcessGroup = SingleProcess()) {
        guard !settings.isOff else { return nil }
        self.model = model
        self.run = run
        self.processes = processes
        firstRow = split.firstRow
        monitor = settings.layers ? LayerMonitor(model: model, processes: processes) : nil
        if settings.worstSamples > 0 {
            losses = SampleLosses(rows: split.totalRows, tasks: model.tasks.count, maxBatch: model.plan.maxBatch)
            // The file's row of every row of the whole split: every process's, in rank order.
            let sourceRows = processes.size > 1 ? processes.allgatherByRank(split.sourceRows).flatMap { $0 } : split.sourceRows
            worst = processes.isFirst
                ? WorstSamplesLog(count: settings.worstSamples, taskPaths: model.tasks.map { $0.task.path.description },
                                  sourceRows: sourceRows)
                : nil
        } else {
            losses = nil
        }
    }

    /// Continues from a checkpoint: the CSV files as it recorded them, the epochs' scalars in
    /// the new event file, and within an epoch the per-sample losses so far.
    func resume(from checkpoint: Checkpoint, events: TensorBoardEventWriter?) throws(Problem) {
        func fail(_ file: String, _ what: String) -> Problem {
            Problem(file: run.path(file), message: "its \(what) do not belong to this flow's training split")
        }
        if var log = worst, let text = checkpoint.worstSamplesText {
            guard log.restore(text) else { throw fail(WorstSamplesLog.fileName, "rows") }
            worst = log
        }
        if let losses, checkpoint.step > 0, !losses.restore(checkpoint.sampleLosses) { throw fail(Checkpoint.fileName, "per-sample losses") }
        guard monitor != nil, let text = checkpoint.diagnosticsText else { return }
        csv = CSVWriter(continuing: text)
        guard let table = try? CSVTable.parse(Array(text.utf8), file: LayerStatistics.fileName) else {
            throw fail(LayerStatistics.fileName, "rows")
        }
        events?.replay(table, epochColumn: 0, valueColumn: 3) { row in
            "diagnostics/\(table.string(row: row, column: 1))/\(table.string(row: row, column: 2))"
        }
    }

    /// A new epoch starts from its first step (not when resumed within it).
    func beginEpoch() {
        losses?.reset()
    }

    /// Before each step; `last` is the epoch's last step, the one measured.
    func beforeStep(last: Bool) {
        if last { monitor?.snapshot() }
    }

    /// After step `step` of the epoch on the training rows `rows` (this process's part).
    func afterStep(rows: ArraySlice<Int>, step: Int, last: Bool) {
        // Later steps stamp larger, all above a restored row's 0. Within a step no two processes
        // record one row: each trains only the rows it holds.
        losses?.record(model, rows: rows, firstRow: firstRow, stamp: 1 + step)
        if last, let monitor { measured = monitor.measure(batch: rows.count) }
    }

    /// Before a checkpoint within an epoch: every process's per-sample losses so far, which
    /// process 0's checkpoint keeps.
    func combineWithinEpoch() {
        losses?.combine(across: processes)
    }

    /// The epoch's rows for both CSV files and its scalars and histograms for TensorBoard, all
    /// in memory until `write`.
    func endEpoch(_ epoch: Int, events: TensorBoardEventWriter?) {
        if let losses {
            losses.combine(across: processes)
            worst?.add(epoch: epoch, losses: losses)
        }
        guard !measured.isEmpty else { return }
        var scalars: [(tag: String, value: Float)] = []
        var histograms: [(tag: String, histogram: Histogram)] = []
        for layer in measured {
            for (name, value) in layer.values {
                csv.append([String(epoch), layer.layer, name, String(value)])
                scalars.append(("diagnostics/\(layer.layer)/\(name)", Float(value)))
            }
            for (name, histogram) in layer.histograms where histogram.count > 0 {
                histograms.append(("diagnostics/\(layer.layer)/\(name)", histogram))
            }
        }
        let now = Date().timeIntervalSince1970
        events?.addScalars(scalars, step: epoch, wallTime: now)
        events?.addHistograms(histograms, step: epoch, wallTime: now)
        measured = []
    }

    /// What a checkpoint keeps: how long both CSV files are and, within an epoch, the
    /// per-sample losses.
    func save(into checkpoint: inout Checkpoint) {
        if monitor != nil { checkpoint.diagnostics = FilePrefix(of: csv) }
        if let worst { checkpoint.worstSamples = FilePrefix(of: worst.csv) }
        if let losses, checkpoint.step > 0 { checkpoint.sampleLosses = losses.values }
    }

    /// Writes `diagnostics.csv` and `worst_samples.csv`, each when asked for.
    func write() throws(Problem) {
        if monitor != nil { try run.write(LayerStatistics.fileName, Data(csv.text.utf8)) }
        if let worst { try run.write(WorstSamplesLog.fileName, Data(worst.csv.text.utf8)) }
    }
}
