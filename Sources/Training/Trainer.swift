import Engine
import FileFormats
import FlowSpec
import Foundation
import ProcessGroups
import Tasks

/// Trains a resolved flow on its data and writes the run directory: per epoch a pass over the
/// shuffled training rows, a validation pass, the best and the last weights, a checkpoint,
/// `metrics.csv` and TensorBoard scalars, and `state.json`.
///
/// Everything random is a function of the seed and the position in the run (each epoch's
/// order comes from a generator seeded by the epoch; dropout's generators are checkpointed), so
/// a run resumed from its checkpoint continues exactly as if it had never stopped.
///
/// With several processes (`mpirun`), each holds a part of the training rows and trains the
/// rows it holds of every batch (the same order on all, `EpochOrder`); their losses and
/// gradients are summed in each step (`ProcessGroupReduction`; batchnorm and the loss balancers
/// sum what they need of the whole batch, `ProcessGroupParts`), their epoch's predictions are
/// gathered at its end, and their parts of the validation split measured together, so that
/// every process holds the same weights and metrics; the first alone writes the run directory.
/// After each step they agree on the batch's losses, whether it diverged and whether to stop
/// (`StepAgreement`), and dropout draws per step from the seed, the rank and the step's place,
/// so that a checkpoint holds nothing of one process (`Checkpoint+Processes`).
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
    /// Epochs after which to stop, with a checkpoint, as if interrupted there (`train
    /// --pause-after`): the schedule stays laid out for `epochs`, so a run paused and resumed
    /// ends exactly as one never paused. Nil, or `epochs` or more: train to the end.
    public var pauseAfter: Int?
    /// Called after each epoch with where its time went.
    public var timed: (_ epoch: Int, EpochTimings) -> Void = { _, _ in }
    /// The processes training together; one unless started by `mpirun`.
    public let processes: any ProcessGroup
    /// Whether this process writes the run directory: the first of its group.
    private var writes: Bool { processes.isFirst }

    public init(flow: ResolvedFlow, data: TrainingData, run: RunDirectory, epochs: Int, seed: Int, flowText: String,
                checkpoint: Checkpoint? = nil, processes: any ProcessGroup = SingleProcess(),
                shouldStop: @escaping () -> Bool = { false }, report: @escaping (String, Bool) -> Void) {
        self.flow = flow
        self.data = data
        self.run = run
        self.epochs = epochs
        self.seed = seed
        self.flowText = flowText
        self.checkpoint = checkpoint
        self.processes = processes
        self.shouldStop = shouldStop
        self.report = report
    }

    /// How a call to `train` ended.
    public enum Outcome: Equatable, Sendable {
        case finished
        /// Stopped by `shouldStop` with a checkpoint: `batches` of epoch `epoch` are done.
        case interrupted(epoch: Int, batches: Int)
        /// Stopped at `pauseAfter` with a checkpoint, `epoch` epochs done.
        case paused(after: Int)
    }

    /// What one call to `train` builds and carries from epoch to epoch.
    private struct Session {
        let model: CompiledModel
        let optimizer: any Optimizer
        let step: TrainingStep
        let schedule: LearningRateSchedule
        let loader: BatchLoader
        let order: EpochOrder
        let diagnostics: TrainingDiagnostics?
        let agreement: StepAgreement
        let batchSize: Int
        /// Full batches only: the last, partial one rejoins the shuffle next epoch.
        let stepsPerEpoch: Int
        var log: MetricsLog
        var best: (epoch: Int, loss: Double)
    }

    /// Runs every epoch (from the checkpoint's position, when there is one): the steps, then the
    /// epoch's metrics, validation, weights and checkpoint. Throws a `Problem` with a file of the
    /// run, or a `TrainingDivergence`.
    public func train() throws -> Outcome {
        // A finished run stays as it is: its event file, histograms and all, is not written anew.
        if let checkpoint, checkpoint.epoch >= epochs {
            return try ranked((checkpoint.bestEpoch, checkpoint.bestLoss), unrankedTasks: [])
        }
        if let checkpoint, checkpoint.step == 0, let pauseAfter, checkpoint.epoch >= pauseAfter {
            return .paused(after: checkpoint.epoch)
        }
        var session = try start()
        let resumeAt = checkpoint.map { (epoch: $0.epoch + 1, step: $0.step) } ?? (epoch: 1, step: 0)
        var unrankedTasks: [String] = []
        for epoch in resumeAt.epoch...epochs {
            let started = Date()
            var timings = EpochTimings()
            var progress = EpochProgress(session.model, statistics: data.statistics)
            let firstStep = epoch == resumeAt.epoch ? resumeAt.step : 0
            if firstStep > 0, let checkpoint { progress.restore(from: checkpoint) }
            if let done = try trainSteps(epoch, from: firstStep, &session, &progress, &timings, started: started) {
                return .interrupted(epoch: epoch, batches: done)
            }
            unrankedTasks = try finishEpoch(epoch, &session, progress, &timings, started: started)
            if epoch < epochs, epoch == pauseAfter { return .paused(after: epoch) }
            if epoch < epochs, session.agreement.stop(requested: shouldStop()) {
                return .interrupted(epoch: epoch + 1, batches: 0)
            }
        }
        return try ranked(session.best, unrankedTasks: unrankedTasks)
    }

    /// Compiles the model and its optimiser, and starts from the checkpoint or from the flow's
    /// initialisation.
    private func start() throws(Problem) -> Session {
        let settings = flow.flow.training
        let batchSize = min(settings.batchSize, data.train.totalRows)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: batchSize,
                                          seed: UInt64(bitPattern: Int64(seed)))
        let optimizer = OptimizerFactory.optimizer(for: model.plan, settings: settings.optimizer)
        let reduction: any GradientReduction = processes.size > 1 ? ProcessGroupReduction(processes, model: model) : OneProcess()
        if processes.size > 1 { model.plan.splitBatches(into: ProcessGroupParts(processes)) }
        var session = Session(
            model: model, optimizer: optimizer,
            step: TrainingStep(model: model, optimizer: optimizer, clipNorm: settings.optimizer.clipNorm.map(Float.init),
                               reduction: reduction),
            schedule: OptimizerFactory.schedule(for: settings, epochs: epochs),
            loader: BatchLoader(model: model, split: data.train, inputs: flow.inputs, seed: seed, rank: processes.rank),
            order: EpochOrder(data.train, sampling: settings.sampling, seed: seed, processes: processes),
            diagnostics: TrainingDiagnostics(settings.diagnostics, model: model, split: data.train, run: run,
                                             processes: processes),
            agreement: StepAgreement(processes, model: model), batchSize: batchSize,
            stepsPerEpoch: max(1, data.train.totalRows / batchSize), log: MetricsLog(run: run),
            best: (epoch: 0, loss: .infinity))
        if let checkpoint {
            try checkpoint.restore(plan: model.plan, optimizer: optimizer)
            if writes {
                try session.log.open(continuing: checkpoint.metricsText)
                try session.diagnostics?.resume(from: checkpoint, events: session.log.events)
            }
            session.best = (checkpoint.bestEpoch, checkpoint.bestLoss)
        } else {
            try TrunkInitialization.apply(flow, to: model.plan, flowDirectory: data.flowDirectory)
            if writes { try session.log.open() }
        }
        processes.shareTrainingState(model.plan, optimizer)
        return session
    }

    /// Trains the batches of `epoch` from `firstStep` on; returns how many are done when
    /// `shouldStop` cut the epoch short (a checkpoint then holds them), nil when it ran to its end.
    private func trainSteps(_ epoch: Int, from firstStep: Int, _ session: inout Session, _ progress: inout EpochProgress,
                            _ timings: inout EpochTimings, started: Date) throws -> Int? {
        let (model, batchSize, stepsPerEpoch) = (session.model, session.batchSize, session.stepsPerEpoch)
        let batches = session.order.batches(epoch: epoch, size: batchSize, steps: stepsPerEpoch)
        if firstStep == 0 { session.diagnostics?.beginEpoch() }
        for s in firstStep..<stepsPerEpoch {
            // This process's rows of the batch (all of it when training alone; maybe none).
            let (batchRows, rows) = batches.batch(s), last = s + 1 == stepsPerEpoch
            timings.time(\.batches) { session.loader.load(rows, epoch: epoch, step: s) }
            timings.time(\.diagnostics) { session.diagnostics?.beforeStep(last: last) }
            let rate = session.schedule.rate(epoch: epoch - 1, step: s, stepsPerEpoch: stepsPerEpoch)
            if processes.size > 1 {
                model.plan.reseedOps(Self.dropoutSeed(seed: seed, epoch: epoch, step: s, rank: processes.rank))
            }
            timings.time(\.steps) { session.step.run(batch: rows.count, learningRate: rate) }
            let stop = session.agreement.afterStep(stopRequested: !last && shouldStop())
            if let problem = divergence(model, session.optimizer, session.agreement) {
                throw TrainingDivergence.atStep(run: run.url.path, epoch: epoch, batch: s + 1, cause: problem)
            }
            timings.time(\.diagnostics) { session.diagnostics?.afterStep(rows: rows, step: s, last: last) }
            timings.time(\.metrics) { progress.add(model, session.agreement, rows: rows, batchRows: batchRows) }
            if stop {
                try writeCheckpoint(epoch: epoch - 1, step: s + 1, session, within: progress)
                return s + 1
            }
            if s % 20 == 0 {
                let rate = Double(progress.seen - progress.seenBefore) / Date().timeIntervalSince(started)
                let rowsLeft = (epochs - epoch) * data.train.totalRows + data.train.totalRows - progress.seen
                let remaining = Double(rowsLeft) / max(rate, 1)
                report("epoch \(epoch)/\(epochs)  batch \(s + 1)/\(stepsPerEpoch)  loss \(format(session.agreement.shownLoss))  "
                       + "\(Int(rate)) samples/s  ETA \(Self.duration(remaining))", true)
            }
        }
        return nil
    }

    /// The end of an epoch: its training metrics, the validation pass, the weights (the best
    /// ones by validation loss), the checkpoint and `state.json`, and the epoch's line. Returns
    /// the tasks whose validation loss was not finite.
    private func finishEpoch(_ epoch: Int, _ session: inout Session, _ progress: EpochProgress,
                             _ timings: inout EpochTimings, started: Date) throws(Problem) -> [String] {
        let model = session.model
        model.plan.endEpoch()  // epoch-level loss balancers (dwa) take this epoch's means
        var progress = progress
        timings.time(\.metrics) { progress.combine(across: processes) }
        let trainResult = timings.time(\.metrics) { progress.metrics() }
        session.log.add(epoch: epoch, split: "train", model.tasks, trainResult)
        var selection = trainResult
        if let valid = data.valid, valid.totalRows > 0 {
            selection = timings.time(\.validation) {
                SplitMetrics.measure(model, valid, statistics: data.statistics, batchSize: session.batchSize,
                                     maskingSeed: flow.flow.training.seed, processes: processes)
            }
            session.log.add(epoch: epoch, split: "valid", model.tasks, selection)
        }
        let events = session.log.events
        timings.time(\.diagnostics) { session.diagnostics?.endEpoch(epoch, events: events) }
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
        if rankable ? selectionLoss < session.best.loss : session.best.epoch == 0 {
            session.best = (epoch, rankable ? selectionLoss : .infinity)
            try save(model.plan, "model.safetensors", epoch: epoch)
        }
        try writeCheckpoint(epoch: epoch, step: 0, session, within: nil)
        try writeState(epochsDone: epoch, bestEpoch: session.best.epoch, steps: session.optimizer.steps)
        timings.saving += Double(DispatchTime.now().uptimeNanoseconds - savingStarted) / 1e9
        let seconds = Date().timeIntervalSince(started)
        timings.total = seconds
        timed(epoch, timings)
        report("epoch \(epoch)/\(epochs)  train loss \(format(progress.meanLoss))  "
               + "\(data.valid == nil ? "" : "valid loss \(format(selectionLoss))  ")"
               + "\(Int(Double(progress.seen - progress.seenBefore) / seconds)) samples/s  \(String(format: "%.1f", seconds)) s"
               + (session.best.epoch == epoch ? (rankable ? "  (best)" : "  (kept: no finite loss to rank it)") : ""), false)
        return zip(model.tasks, selection.losses).filter { !$0.1.loss.isFinite }.map { "'\($0.0.task.path)' is \($0.1.loss)" }
    }

    /// The files the checkpoint records (on disk as recorded; in the first epoch they are not
    /// yet written at all), then the checkpoint: `epoch` epochs and `step` batches done, with
    /// the epoch's progress when it is taken within one.
    private func writeCheckpoint(epoch: Int, step: Int, _ session: Session, within progress: EpochProgress?)
        throws(Problem) {
        // Within an epoch, process 0's checkpoint holds what every process gathered so far.
        var progress = progress
        if progress != nil {
            progress?.combine(across: processes)
            session.diagnostics?.combineWithinEpoch()
        }
        guard writes else { return }
        try session.log.flush()
        try session.diagnostics?.write()
        var checkpoint = Checkpoint(epoch: epoch, step: step, epochs: epochs, seed: seed, bestEpoch: session.best.epoch,
                                    bestLoss: session.best.loss, metrics: session.log.recorded, flow: flowText,
                                    statistics: data.statistics.fingerprints)
        progress?.save(into: &checkpoint)
        session.diagnostics?.save(into: &checkpoint)
        try checkpoint.save(plan: session.model.plan, optimizer: session.optimizer, in: run)
    }

    /// A finished run, unless no epoch had a finite selection loss: then its model.safetensors
    /// (the first epoch's) was never compared with anything, and the run fails.
    private func ranked(_ best: (epoch: Int, loss: Double), unrankedTasks: [String]) throws(TrainingDivergence) -> Outcome {
        guard !best.loss.isFinite else { return .finished }
        let split = data.valid.map { $0.totalRows > 0 } == true ? "validation" : "training"
        throw .noFiniteEpoch(run: run.url.path, split: split, unrankedTasks: unrankedTasks, keptEpoch: best.epoch)
    }

    /// The seed of dropout's generators in step `step` of `epoch` on process `rank`, when several
    /// processes train: a function of the step's place alone, so that a run resumed under any
    /// number of processes draws as it would have (alone, the generators run through the run and
    /// are checkpointed).
    static func dropoutSeed(seed: Int, epoch: Int, step: Int, rank: Int) -> UInt64 {
        (UInt64(bitPattern: Int64(seed)) &+ 0xD80_9047) ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(step) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(rank) &* 0xD6E8_FEB8_6659_FD93)
    }

    /// Why the last step cannot be trusted, if it cannot: a task's loss (over the whole batch,
    /// as every process agreed) or a gradient that is not finite.
    private func divergence(_ model: CompiledModel, _ optimizer: any Optimizer, _ agreed: StepAgreement) -> String? {
        if let t = model.tasks.indices.first(where: { !agreed.taskLoss($0).isFinite }) {
            return "the loss of task '\(model.tasks[t].task.path)' is \(agreed.taskLoss(t))"
        }
        if !agreed.totalLoss.isFinite { return "the total loss is \(agreed.totalLoss)" }
        if !optimizer.gradientsWereFinite {
            let name = model.plan.parameterWithNonFiniteGradient()?.name ?? "a parameter"
            return "the gradient of '\(name)' is not finite"
        }
        return nil
    }

    private func save(_ plan: Plan, _ name: String, epoch: Int) throws(Problem) {
        guard writes else { return }
        try ModelWeights.save(plan, to: run.path(name), metadata: ["flow": flow.flow.name, "epoch": String(epoch)])
    }

    private func writeState(epochsDone: Int, bestEpoch: Int, steps: Int) throws(Problem) {
        guard writes else { return }
        let state = RunState(flowName: flow.flow.name, statistics: data.statistics, epochsDone: epochsDone,
                             bestEpoch: bestEpoch, optimizerSteps: steps, seed: seed, flowtrainVersion: FlowtrainVersion.current,
                             flowDirectory: data.flowDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let json = try? encoder.encode(state) else { return }
        try run.write("state.json", json)
    }

    private func format(_ value: Double) -> String { String(format: "%.4f", value) }

    /// `1 h 02 min`, `3 min 05 s`, `42 s`: the time left, roughly (validation passes not counted).
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%d h %02d min", total / 3600, total % 3600 / 60) }
        if total >= 60 { return String(format: "%d min %02d s", total / 60, total % 60) }
        return "\(total) s"
    }
}
