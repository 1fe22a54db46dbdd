import Engine
import FlowSpec
import Foundation

/// `train.diagnostics` over a run: the layer statistics of each epoch's last training step
/// (`diagnostics.csv`, TensorBoard scalars and histograms under `diagnostics/<layer>/`) and the
/// worst training samples per task (`worst_samples.csv`). The trainer calls it at a few fixed
/// points; a step that is not an epoch's last costs only the per-sample losses.
///
/// Resuming: both CSV texts ride in the checkpoint, as `metrics.csv` does, and a checkpoint
/// within an epoch keeps the epoch's per-sample losses, so the files end as an uninterrupted
/// run's. The event file, written anew on resume, gets the earlier epochs' scalars back from
/// `diagnostics.csv`; their histograms are not kept.
final class TrainingDiagnostics {
    let model: CompiledModel
    let run: RunDirectory
    private let monitor: LayerMonitor?
    private let losses: SampleLosses?
    private var worst: WorstSamplesLog?
    private var csv = CSVWriter(header: LayerStatistics.header)
    /// The layers as measured on the last step of the current epoch.
    private var measured: [LayerStatistics] = []

    /// Nil when the flow asks for no diagnostics.
    init?(_ settings: DiagnosticsSettings, model: CompiledModel, split: EncodedSplit, run: RunDirectory) {
        guard !settings.isOff else { return nil }
        self.model = model
        self.run = run
        monitor = settings.layers ? LayerMonitor(model: model) : nil
        if settings.worstSamples > 0 {
            losses = SampleLosses(rows: split.rows, tasks: model.tasks.count, maxBatch: model.plan.maxBatch)
            worst = WorstSamplesLog(count: settings.worstSamples, taskPaths: model.tasks.map { $0.task.path.description },
                                    sourceRows: split.sourceRows)
        } else {
            losses = nil
        }
    }

    /// Continues from a checkpoint: the CSV texts, the epochs' scalars in the new event file,
    /// and within an epoch the per-sample losses so far.
    func resume(from checkpoint: Checkpoint, events: TensorBoardEventWriter?) throws(DataError) {
        func fail(_ what: String) -> DataError {
            DataError(file: run.path(Checkpoint.fileName), message: "its \(what) do not belong to this flow's training split")
        }
        if var log = worst {
            guard log.restore(checkpoint.worstSamples) else { throw fail("worst samples") }
            worst = log
        }
        if let losses, checkpoint.step > 0, !losses.restore(checkpoint.sampleLosses) { throw fail("per-sample losses") }
        guard !checkpoint.diagnostics.isEmpty else { return }
        csv = CSVWriter(continuing: checkpoint.diagnostics)
        guard let table = try? CSVTable.parse(Array(checkpoint.diagnostics.utf8), file: LayerStatistics.fileName) else {
            throw fail("layer statistics")
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

    /// After each step on the training rows `rows`.
    func afterStep(rows: ArraySlice<Int>, last: Bool) {
        losses?.record(model, rows: rows)
        if last, let monitor { measured = monitor.measure(batch: rows.count) }
    }

    /// The epoch's rows for both CSV files and its scalars and histograms for TensorBoard, all
    /// in memory until `write`.
    func endEpoch(_ epoch: Int, events: TensorBoardEventWriter?) {
        if let losses { worst?.add(epoch: epoch, losses: losses) }
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

    /// What a checkpoint keeps: both CSV texts and, within an epoch, the per-sample losses.
    func save(into checkpoint: inout Checkpoint) {
        if monitor != nil { checkpoint.diagnostics = csv.text }
        if let worst { checkpoint.worstSamples = worst.csv.text }
        if let losses, checkpoint.step > 0 { checkpoint.sampleLosses = losses.values }
    }

    /// Writes `diagnostics.csv` and `worst_samples.csv`, each when asked for.
    func write() throws(DataError) {
        if monitor != nil { try run.write(LayerStatistics.fileName, Data(csv.text.utf8)) }
        if let worst { try run.write(WorstSamplesLog.fileName, Data(worst.csv.text.utf8)) }
    }
}
