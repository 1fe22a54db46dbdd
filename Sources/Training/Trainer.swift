import Engine
import FlowSpec
import Foundation
import Tasks

/// Trains a resolved flow on its data and writes the run directory: per epoch a pass over the
/// shuffled training rows, a validation pass, `metrics.csv` and TensorBoard scalars, the best
/// and the last weights, and `state.json`.
public struct Trainer {
    public let flow: ResolvedFlow
    public let data: TrainingData
    public let run: RunDirectory
    public let epochs: Int
    public let seed: Int
    /// Called with one line per epoch, and (when `live` is set) with progress within it.
    public let report: (String, _ live: Bool) -> Void

    public init(flow: ResolvedFlow, data: TrainingData, run: RunDirectory, epochs: Int, seed: Int,
                report: @escaping (String, Bool) -> Void) {
        self.flow = flow
        self.data = data
        self.run = run
        self.epochs = epochs
        self.seed = seed
        self.report = report
    }

    /// Runs every epoch; returns the validation (or training) metrics of the best epoch.
    @discardableResult
    public func train() throws(DataError) -> [String: [Metric]] {
        let settings = flow.flow.training
        let batchSize = min(settings.batchSize, data.train.rows)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: batchSize, seed: UInt64(seed))
        let optimizer = OptimizerFactory.optimizer(for: model.plan, settings: settings.optimizer)
        let step = TrainingStep(model: model, optimizer: optimizer, clipNorm: settings.optimizer.clipNorm.map(Float.init))
        let schedule = OptimizerFactory.schedule(for: settings, epochs: epochs)
        let prefetcher = BatchPrefetcher(model: model, split: data.train)
        defer { prefetcher.stop() }
        // Full batches only: the last, partial one rejoins the shuffle next epoch.
        let stepsPerEpoch = max(1, data.train.rows / batchSize)
        var log = MetricsLog(run: run)
        try log.open()
        var random = Random(seed: UInt64(seed) &+ 0x5EED)
        var order = Array(0..<data.train.rows)
        var best = (epoch: 0, loss: Double.infinity, metrics: [String: [Metric]]())

        for epoch in 1...epochs {
            let started = Date()
            switch settings.sampling {
            case .shuffle:
                for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            case .balanced:
                order = BalancedSampler.draw(data.train, count: data.train.rows, random: &random)
            }
            var trainLoss = 0.0, seen = 0
            // Training metrics come from the training passes themselves (as Keras reports them),
            // not from a second pass over the training split.
            var predictions = model.tasks.map { TaskPredictions($0.decoder(data.statistics)) }
            var taskLosses = [(loss: Double, count: Int)](repeating: (0, 0), count: model.tasks.count)
            func batchRows(_ s: Int) -> ArraySlice<Int> { order[(s * batchSize)..<min((s + 1) * batchSize, order.count)] }
            prefetcher.start(batchRows(0))
            for s in 0..<stepsPerEpoch {
                let rows = batchRows(s)
                _ = prefetcher.install()
                if s + 1 < stepsPerEpoch { prefetcher.start(batchRows(s + 1)) }  // prepared while this step runs
                step.run(batch: rows.count, learningRate: schedule.rate(epoch: epoch - 1, step: s, stepsPerEpoch: stepsPerEpoch))
                let loss = Double(model.plan.totalLoss)
                guard loss.isFinite else {
                    throw DataError(file: run.path("metrics.csv"),
                                    message: "training diverged: the loss is \(loss) at epoch \(epoch), batch \(s + 1)")
                }
                trainLoss += loss * Double(rows.count)
                seen += rows.count
                for (t, task) in model.tasks.enumerated() {
                    taskLosses[t].loss += Double(task.loss.loss) * Double(task.loss.count)
                    taskLosses[t].count += task.loss.count
                    predictions[t].add(logits: UnsafeBufferPointer(task.logits.values(batch: rows.count)),
                                       targets: UnsafeBufferPointer(task.targets.values(batch: rows.count)),
                                       rows: rows, counts: data.train.counts[t])
                }
                if s % 20 == 0 {
                    let rate = Double(seen) / Date().timeIntervalSince(started)
                    let remaining = Double((epochs - epoch) * data.train.rows + data.train.rows - seen) / max(rate, 1)
                    report("epoch \(epoch)/\(epochs)  batch \(s + 1)/\(stepsPerEpoch)  loss \(format(loss))  "
                           + "\(Int(rate)) samples/s  ETA \(Self.duration(remaining))", true)
                }
            }
            let trainResult = SplitEvaluation(
                losses: taskLosses.map { ($0.count == 0 ? 0 : $0.loss / Double($0.count), $0.count) },
                metrics: predictions.map { $0.metrics() })
            try log.add(epoch: epoch, split: "train", model.tasks, trainResult)
            var selection = trainResult
            if let valid = data.valid, valid.rows > 0 {
                selection = SplitEvaluation.run(model, valid, statistics: data.statistics, batchSize: batchSize)
                try log.add(epoch: epoch, split: "valid", model.tasks, selection)
            }
            try log.flush()
            let selectionLoss = zip(model.tasks, selection.losses).reduce(0.0) { $0 + $1.0.task.spec.weight * $1.1.loss }
            try save(model.plan, "model-last.safetensors", epoch: epoch)
            if selectionLoss < best.loss {
                best = (epoch, selectionLoss, Dictionary(uniqueKeysWithValues: zip(model.tasks.map(\.task.path.description),
                                                                                 selection.metrics)))
                try save(model.plan, "model.safetensors", epoch: epoch)
            }
            try writeState(epochsDone: epoch, bestEpoch: best.epoch, steps: optimizer.steps)
            let seconds = Date().timeIntervalSince(started)
            report("epoch \(epoch)/\(epochs)  train loss \(format(trainLoss / Double(max(seen, 1))))  "
                   + "\(data.valid == nil ? "" : "valid loss \(format(selectionLoss))  ")"
                   + "\(Int(Double(seen) / seconds)) samples/s  \(String(format: "%.1f", seconds)) s"
                   + (best.epoch == epoch ? "  (best)" : ""), false)
        }
        return best.metrics
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
    let run: RunDirectory
    private var csv = CSVWriter(header: ["epoch", "split", "task_path", "metric_name", "value", "num_samples"])
    private var events: TensorBoardEventWriter?

    init(run: RunDirectory) { self.run = run }

    mutating func open() throws(DataError) {
        do { events = try TensorBoardEventWriter(directory: run.url) } catch {
            throw DataError(file: run.url.path, message: "cannot start a TensorBoard event file: \(error)")
        }
    }

    mutating func add(epoch: Int, split: String, _ tasks: [CompiledTask], _ result: SplitEvaluation) throws(DataError) {
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
        do { try csv.write(to: run.path("metrics.csv")) } catch {
            throw DataError(file: run.path("metrics.csv"), message: "cannot be written: \(error.localizedDescription)")
        }
        do { try events?.flush() } catch { throw DataError(file: run.url.path, message: "\(error)") }
    }
}
