import Engine
import FileFormats
import FlowSpec
import Foundation
import Tasks

/// Trains a resolved flow on its data and writes the run directory: per epoch a pass over the
/// shuffled training rows, a validation pass, the best and the last weights, a checkpoint,
/// `metrics.csv` and TensorBoard scalars, and `state.json`.
///
/// Everything random is a function of the seed and the position in the run (each epoch's
/// order comes from a generator seeded by the epoch; dropout's generators are checkpointed), so
/// a run resumed from its checkpoint continues exactly as if it had never stopped.
public struct Trainer {
    public let flow: ResolvedFlow
    public let data: TrainingData
    public let run: RunDirectory
    public let epochs: Int
    public let seed: Int
    /// `flow.yaml` as written for this run: a checkpoint records it.
    public let flowText: String
    /// Where to continue from (`train --resume`).
    public let checkpoint: Checkpoint?
    /// Asked after every step: true stops the run at the end of that step, with a checkpoint.
    public let shouldStop: () -> Bool
    /// Called with one line per epoch, and (when `live` is set) with progress within it.
    public let report: (String, _ live: Bool) -> Void
    /// Called after each epoch with where its time went.
    public var timed: (_ epoch: Int, EpochTimings) -> Void = { _, _ in }

    public init(flow: ResolvedFlow, data: TrainingData, run: RunDirectory, epochs: Int, seed: Int, flowText: String,
                checkpoint: Checkpoint? = nil, shouldStop: @escaping () -> Bool = { false },
                report: @escaping (String, Bool) -> Void) {
        self.flow = flow
        self.data = data
        self.run = run
        self.epochs = epochs
        self.seed = seed
        self.flowText = flowText
        self.checkpoint = checkpoint
        self.shouldStop = shouldStop
        self.report = report
    }

    /// How a call to `train` ended.
    public enum Outcome: Equatable, Sendable {
        case finished
        /// Stopped by `shouldStop` with a checkpoint: `batches` of epoch `epoch` are done.
        case interrupted(epoch: Int, batches: Int)
    }

    /// Runs every epoch (from the checkpoint's position, when there is one).
    public func train() throws(DataError) -> Outcome {
        // A finished run stays as it is: its event file, histograms and all, is not written anew.
        if let checkpoint, checkpoint.epoch >= epochs {
            return try ranked((checkpoint.bestEpoch, checkpoint.bestLoss), unrankedTasks: [])
        }
        let settings = flow.flow.training
        let batchSize = min(settings.batchSize, data.train.rows)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: batchSize, seed: UInt64(seed))
        let optimizer = OptimizerFactory.optimizer(for: model.plan, settings: settings.optimizer)
        let step = TrainingStep(model: model, optimizer: optimizer, clipNorm: settings.optimizer.clipNorm.map(Float.init))
        let schedule = OptimizerFactory.schedule(for: settings, epochs: epochs)
        let prefetcher = BatchPrefetcher(model: model, split: data.train, inputs: flow.inputs, seed: seed)
        defer { prefetcher.stop() }
        let diagnostics = TrainingDiagnostics(settings.diagnostics, model: model, split: data.train, run: run)
        // Full batches only: the last, partial one rejoins the shuffle next epoch.
        let stepsPerEpoch = max(1, data.train.rows / batchSize)
        var log = MetricsLog(run: run)
        var best = (epoch: 0, loss: Double.infinity)
        var resumeAt = (epoch: 1, step: 0)
        if let checkpoint {
            try checkpoint.restore(plan: model.plan, optimizer: optimizer)
            try log.open(continuing: checkpoint.metricsText)
            try diagnostics?.resume(from: checkpoint, events: log.events)
            best = (checkpoint.bestEpoch, checkpoint.bestLoss)
            resumeAt = (checkpoint.epoch + 1, checkpoint.step)
        } else {
            try TrunkInitialization.apply(flow, to: model.plan, flowDirectory: data.flowDirectory)
            try log.open()
        }
        var unrankedTasks: [String] = []
        let statistics = data.statistics.fingerprints

        for epoch in resumeAt.epoch...epochs {
            let started = Date()
            var timings = EpochTimings()
            let order = Self.order(of: data.train, epoch: epoch, seed: seed, sampling: settings.sampling)
            let firstStep = epoch == resumeAt.epoch ? resumeAt.step : 0
            var trainLoss = 0.0, seen = 0
            // Training metrics come from the training passes themselves (as Keras reports them),
            // not from a second pass over the training split.
            var predictions = model.tasks.map { TaskPredictions($0.decoder(data.statistics)) }
            var taskLosses = [(loss: Double, count: Int)](repeating: (0, 0), count: model.tasks.count)
            if firstStep > 0, let checkpoint {
                (trainLoss, seen, taskLosses) = (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses)
                for (t, p) in checkpoint.predictions { predictions[t].restore(scores: p.scores, labels: p.labels, counted: p.counted) }
            }
            if firstStep == 0 { diagnostics?.beginEpoch() }
            let seenBefore = seen  // rows of this epoch trained before a resume: not in this session's speed
            func batchRows(_ s: Int) -> ArraySlice<Int> { order[(s * batchSize)..<min((s + 1) * batchSize, order.count)] }
            prefetcher.start(batchRows(firstStep), epoch: epoch, step: firstStep)
            for s in firstStep..<stepsPerEpoch {
                let rows = batchRows(s)
                _ = timings.time(\.batches) { prefetcher.install() }
                if s + 1 < stepsPerEpoch { prefetcher.start(batchRows(s + 1), epoch: epoch, step: s + 1) }  // prepared while this step runs
                timings.time(\.diagnostics) { diagnostics?.beforeStep(last: s + 1 == stepsPerEpoch) }
                timings.time(\.steps) {
                    step.run(batch: rows.count, learningRate: schedule.rate(epoch: epoch - 1, step: s, stepsPerEpoch: stepsPerEpoch))
                }
                if let problem = divergence(model, optimizer, loss: Double(model.plan.totalLoss)) {
                    throw DataError(file: run.url.path, message: "training diverged at epoch \(epoch), batch \(s + 1): \(problem)")
                }
                timings.time(\.diagnostics) { diagnostics?.afterStep(rows: rows, last: s + 1 == stepsPerEpoch) }
                // With the tasks' fixed weights, as the validation loss is: what a balancer makes
                // of the total is not comparable between epochs.
                let loss = model.tasks.reduce(0.0) { $0 + $1.task.spec.weight * Double($1.loss.loss) }
                trainLoss += loss * Double(rows.count)
                seen += rows.count
                let metricsStarted = DispatchTime.now().uptimeNanoseconds
                for (t, task) in model.tasks.enumerated() {
                    taskLosses[t].loss += Double(task.loss.loss) * Double(task.loss.count)
                    taskLosses[t].count += task.loss.count
                    predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                                       targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                                       rows: rows, counts: data.train.counts[t],
                                       // Augmentation masks only coordinates (bounded regressions) it moved out of view.
                                       mask: task.task.spec.type == .boundedRegression
                                           ? UnsafeBufferPointer(task.mask.values(batch: rows.count)) : nil)
                }
                timings.metrics += Double(DispatchTime.now().uptimeNanoseconds - metricsStarted) / 1e9
                if s + 1 < stepsPerEpoch, shouldStop() {
                    // The files the checkpoint records are on disk as recorded (in the first
                    // epoch they are not yet written at all).
                    try log.flush()
                    try diagnostics?.write()
                    var checkpoint = Checkpoint(epoch: epoch - 1, step: s + 1, epochs: epochs, seed: seed,
                                                bestEpoch: best.epoch, bestLoss: best.loss, metrics: log.recorded, flow: flowText,
                                                statistics: statistics)
                    (checkpoint.trainLoss, checkpoint.seen, checkpoint.taskLosses) = (trainLoss, seen, taskLosses)
                    for (t, p) in predictions.enumerated() { checkpoint.predictions[t] = p.collected }
                    diagnostics?.save(into: &checkpoint)
                    try checkpoint.save(plan: model.plan, optimizer: optimizer, in: run)
                    return .interrupted(epoch: epoch, batches: s + 1)
                }
                if s % 20 == 0 {
                    let rate = Double(seen - seenBefore) / Date().timeIntervalSince(started)
                    let remaining = Double((epochs - epoch) * data.train.rows + data.train.rows - seen) / max(rate, 1)
                    report("epoch \(epoch)/\(epochs)  batch \(s + 1)/\(stepsPerEpoch)  loss \(format(loss))  "
                           + "\(Int(rate)) samples/s  ETA \(Self.duration(remaining))", true)
                }
            }
            model.plan.endEpoch()  // epoch-level loss balancers (dwa) take this epoch's means
            let trainResult = timings.time(\.metrics) {
                SplitEvaluation(losses: taskLosses.map { ($0.count == 0 ? 0 : $0.loss / Double($0.count), $0.count) },
                                metrics: predictions.map { $0.metrics() })
            }
            log.add(epoch: epoch, split: "train", model.tasks, trainResult)
            var selection = trainResult
            if let valid = data.valid, valid.rows > 0 {
                selection = timings.time(\.validation) {
                    SplitEvaluation.run(model, valid, statistics: data.statistics, batchSize: batchSize)
                }
                log.add(epoch: epoch, split: "valid", model.tasks, selection)
            }
            timings.time(\.diagnostics) { diagnostics?.endEpoch(epoch, events: log.events) }
            let savingStarted = DispatchTime.now().uptimeNanoseconds
            let selectionLoss = zip(model.tasks, selection.losses).reduce(0.0) { $0 + $1.0.task.spec.weight * $1.1.loss }
            // The weights and the growing files (metrics.csv, the event file, the diagnostics
            // files) first, then the checkpoint that refers to them, then state.json: a resumed
            // run continues from the files' first bytes as the checkpoint recorded them, so rows
            // written before a kill that came before the checkpoint are dropped.
            try save(model.plan, "model-last.safetensors", epoch: epoch)
            // A loss that is not finite ranks no epoch; the first epoch's weights are kept all
            // the same, so that a run always has a model.safetensors.
            let rankable = selectionLoss.isFinite
            if rankable ? selectionLoss < best.loss : best.epoch == 0 {
                best = (epoch, rankable ? selectionLoss : .infinity)
                try save(model.plan, "model.safetensors", epoch: epoch)
            }
            unrankedTasks = zip(model.tasks, selection.losses).filter { !$0.1.loss.isFinite }
                .map { "'\($0.0.task.path)' is \($0.1.loss)" }
            try log.flush()
            try diagnostics?.write()
            var checkpoint = Checkpoint(epoch: epoch, step: 0, epochs: epochs, seed: seed, bestEpoch: best.epoch,
                                        bestLoss: best.loss, metrics: log.recorded, flow: flowText, statistics: statistics)
            diagnostics?.save(into: &checkpoint)
            try checkpoint.save(plan: model.plan, optimizer: optimizer, in: run)
            try writeState(epochsDone: epoch, bestEpoch: best.epoch, steps: optimizer.steps)
            timings.saving += Double(DispatchTime.now().uptimeNanoseconds - savingStarted) / 1e9
            let seconds = Date().timeIntervalSince(started)
            timings.total = seconds
            timed(epoch, timings)
            report("epoch \(epoch)/\(epochs)  train loss \(format(trainLoss / Double(max(seen, 1))))  "
                   + "\(data.valid == nil ? "" : "valid loss \(format(selectionLoss))  ")"
                   + "\(Int(Double(seen - seenBefore) / seconds)) samples/s  \(String(format: "%.1f", seconds)) s"
                   + (best.epoch == epoch ? (rankable ? "  (best)" : "  (kept: no finite loss to rank it)") : ""), false)
            if epoch < epochs, shouldStop() { return .interrupted(epoch: epoch + 1, batches: 0) }
        }
        return try ranked(best, unrankedTasks: unrankedTasks)
    }

    /// A finished run, unless no epoch had a finite selection loss: then its model.safetensors
    /// (the first epoch's) was never compared with anything, and the run fails.
    private func ranked(_ best: (epoch: Int, loss: Double), unrankedTasks: [String]) throws(DataError) -> Outcome {
        guard !best.loss.isFinite else { return .finished }
        let split = data.valid.map { $0.rows > 0 } == true ? "validation" : "training"
        throw DataError(file: run.url.path, message: "the \(split) loss was not finite in any epoch"
                        + (unrankedTasks.isEmpty ? "" : " (the last epoch's loss of task \(unrankedTasks.joined(separator: ", task ")))")
                        + ", so no epoch could be chosen as the best: model.safetensors holds epoch \(best.epoch)'s weights; "
                        + "look for extreme values in the \(split) data")
    }

    /// The training rows of `epoch` in the order they are drawn: a shuffle (or a balanced
    /// draw) from a generator seeded by the run's seed and the epoch alone.
    static func order(of split: EncodedSplit, epoch: Int, seed: Int, sampling: Sampling) -> [Int] {
        var random = Random(seed: (UInt64(bitPattern: Int64(seed)) &+ 0x5EED) ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        switch sampling {
        case .shuffle:
            var order = Array(0..<split.rows)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            return order
        case .balanced:
            return BalancedSampler.draw(split, count: split.rows, random: &random)
        }
    }

    /// Why the last step cannot be trusted, if it cannot: a task's loss or a gradient that is
    /// not finite.
    private func divergence(_ model: CompiledModel, _ optimizer: any Optimizer, loss: Double) -> String? {
        if let task = model.tasks.first(where: { !$0.loss.loss.isFinite }) {
            return "the loss of task '\(task.task.path)' is \(task.loss.loss)"
        }
        if !loss.isFinite { return "the total loss is \(loss)" }
        if !optimizer.gradientsWereFinite {
            let name = model.plan.parameterWithNonFiniteGradient()?.name ?? "a parameter"
            return "the gradient of '\(name)' is not finite"
        }
        return nil
    }

    private func save(_ plan: Plan, _ name: String, epoch: Int) throws(DataError) {
        do {
            try ModelWeights.save(plan, to: run.path(name), metadata: ["flow": flow.flow.name, "epoch": String(epoch)])
        } catch {
            throw DataError(file: run.path(name), message: error.message)
        }
    }

    private func writeState(epochsDone: Int, bestEpoch: Int, steps: Int) throws(DataError) {
        let state = RunState(flowName: flow.flow.name, statistics: data.statistics, epochsDone: epochsDone,
                             bestEpoch: bestEpoch, optimizerSteps: steps, seed: seed, flowtrainVersion: "0.1.0",
                             flowDirectory: data.flowDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let json = try? encoder.encode(state) else { return }
        try run.write("state.json", json)
    }

    private func format(_ value: Double) -> String { String(format: "%.4f", value) }

    /// `1 h 02 min`, `3 min 05 s`, `42 s`: the time left, roughly (validation passes not counted).
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%d h %02d min", total / 3600, total % 3600 / 60) }
        if total >= 60 { return String(format: "%d min %02d s", total / 60, total % 60) }
        return "\(total) s"
    }
}

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

    mutating func open() throws(DataError) {
        try startEvents()
    }

    /// Continues from `metrics.csv` as a checkpoint recorded it: rows written after the
    /// checkpoint are dropped, and the event file is written anew from these rows, so that every
    /// epoch appears once in both.
    mutating func open(continuing text: String) throws(DataError) {
        csv = CSVWriter(continuing: text)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: run.url.path)) ?? []
        for name in files where name.hasPrefix("events.out.tfevents.") { try? FileManager.default.removeItem(atPath: run.path(name)) }
        try startEvents()
        let table: CSVTable
        do { table = try CSVTable.parse(Array(text.utf8), file: run.path(Self.fileName)) } catch {
            throw DataError(file: error.file, message: "its metrics cannot be read: \(error.message)")
        }
        events?.replay(table, epochColumn: 0, valueColumn: 4) { row in
            "\(table.string(row: row, column: 2))/\(table.string(row: row, column: 3))/\(table.string(row: row, column: 1))"
        }
    }

    private mutating func startEvents() throws(DataError) {
        do { events = try TensorBoardEventWriter(directory: run.url) } catch {
            throw DataError(file: run.url.path, message: "cannot start a TensorBoard event file: \(error)")
        }
    }

    mutating func add(epoch: Int, split: String, _ tasks: [CompiledTask], _ result: SplitEvaluation) {
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

    func flush() throws(DataError) {
        try run.write(Self.fileName, Data(csv.text.utf8))
        do { try events?.flush() } catch { throw DataError(file: run.url.path, message: "\(error)") }
    }
}
