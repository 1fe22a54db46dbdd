import Engine
import FileFormats
import Foundation
import Tasks

/// `checkpoint.safetensors`: everything a run needs to continue exactly where it stopped, so
/// that a resumed run ends with the same weights and metrics as one never interrupted.
///
/// Tensors: `parameters` (the whole parameter block), `optimizer.<buffer>` (moments or
/// velocity, laid out like the block), `state.<name>` (running statistics) and, for a
/// checkpoint taken within an epoch (Ctrl-C), `epoch.<task>.scores|labels|counted`: the
/// training predictions collected so far, and `epoch.sample_losses` (with diagnostics' worst
/// samples on). Metadata: the counters, the generators' states, the best epoch, and the length
/// and checksum of `metrics.csv` as written so far (`diagnostics.csv` and `worst_samples.csv`
/// too, when on): a resumed run continues from those first bytes of each file, so the
/// checkpoint does not grow with the epochs. Doubles are kept as their bit patterns.
/// Written after the epoch's weights files and the files it records, before `state.json`.
public struct Checkpoint {
    static let fileName = "checkpoint.safetensors"
    static let format = "flowtrain-checkpoint-2"

    /// Epochs finished.
    public var epoch: Int
    /// Batches of epoch `epoch + 1` done already (0 at an epoch's end).
    public var step: Int
    public var epochs: Int
    public var seed: Int
    public var bestEpoch: Int
    public var bestLoss: Double
    /// How long `metrics.csv` was, and its checksum.
    var metrics: FilePrefix
    /// The flow as run (`flow.yaml`): a resumed run must train the same flow.
    public var flow: String
    /// `DataStatistics.fingerprints` of the training split the run started on: a resumed run
    /// must train on the same data.
    var statistics: [String: UInt32]
    init(epoch: Int, step: Int, epochs: Int, seed: Int, bestEpoch: Int, bestLoss: Double, metrics: FilePrefix, flow: String,
         statistics: [String: UInt32]) {
        (self.epoch, self.step, self.epochs, self.seed) = (epoch, step, epochs, seed)
        (self.bestEpoch, self.bestLoss, self.metrics, self.flow, self.statistics) = (bestEpoch, bestLoss, metrics, flow, statistics)
    }

    /// Within an epoch: Σ loss × rows and rows seen, each task's Σ loss × count and count, and
    /// each task's collected training predictions.
    var trainLoss = 0.0, seen = 0
    var taskLosses: [(loss: Double, count: Int)] = []
    var predictions: [Int: (scores: [Float], labels: [Float], counted: [Bool])] = [:]

    /// `train.diagnostics`: `diagnostics.csv` and `worst_samples.csv` as they stood, and within
    /// an epoch each training row's loss per task so far (`SampleLosses.values`).
    var diagnostics: FilePrefix?, worstSamples: FilePrefix?

    /// Read back for a run with epochs left: the files recorded, cut to their recorded length
    /// (checked when the checkpoint is read, so that a file changed since is bad input).
    var metricsText = "", diagnosticsText: String?, worstSamplesText: String?
    var sampleLosses: [Float] = []

    /// Writes the checkpoint with the plan's and optimiser's current state, durably
    /// (a temporary file, fsync, rename, fsync of the directory).
    func save(plan: Plan, optimizer: any Optimizer, in run: RunDirectory) throws(Problem) {
        var tensors = [SafetensorsWriter.Tensor(name: "parameters", shape: [plan.parameterCount],
                                                values: UnsafeBufferPointer(start: plan.values, count: plan.parameterCount))]
        for (name, values) in optimizer.stateBuffers {
            tensors.append(.init(name: "optimizer.\(name)", shape: [plan.trainableCount],
                                 values: UnsafeBufferPointer(start: values, count: plan.trainableCount)))
        }
        for s in plan.state {
            tensors.append(.init(name: "state.\(s.name)", shape: s.shape,
                                 values: UnsafeBufferPointer(start: s.data, count: s.shape.reduce(1, *))))
        }
        for (t, p) in predictions where !p.scores.isEmpty {
            tensors.append(.init(name: "epoch.\(t).scores", shape: [p.scores.count], values: p.scores))
            tensors.append(.init(name: "epoch.\(t).labels", shape: [p.labels.count], values: p.labels))
            if !p.counted.isEmpty {
                tensors.append(.init(name: "epoch.\(t).counted", shape: [p.counted.count], values: p.counted.map { $0 ? 1 : 0 }))
            }
        }
        if !sampleLosses.isEmpty {
            tensors.append(.init(name: "epoch.sample_losses", shape: [sampleLosses.count], values: sampleLosses))
        }
        let sortedKeys = JSONEncoder()
        sortedKeys.outputFormatting = .sortedKeys  // the same statistics, the same bytes
        var metadata: [String: String] = [
            "format": Self.format, "epoch": String(epoch), "step": String(step), "epochs": String(epochs),
            "seed": String(seed), "optimizer_steps": String(optimizer.steps),
            "generators": plan.generatorStates.map { $0.map(String.init).joined(separator: ",") }.joined(separator: ";"),
            "best_epoch": String(bestEpoch), "best_loss": Self.bits(bestLoss), "metrics": metrics.metadata, "flow": flow,
            "statistics": String(decoding: (try? sortedKeys.encode(statistics)) ?? Data(), as: UTF8.self),
            "train_loss": Self.bits(trainLoss), "seen": String(seen),
            "task_losses": taskLosses.map { "\(Self.bits($0.loss)):\($0.count)" }.joined(separator: ";"),
        ]
        if let diagnostics { metadata["diagnostics"] = diagnostics.metadata }
        if let worstSamples { metadata["worst_samples"] = worstSamples.metadata }
        let path = run.path(Self.fileName)
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)
    }

    /// The tensors read with the counters, copied into a plan by `restore`.
    private var file: SafetensorsFile?

    /// The run's checkpoint, or nil when it has none yet.
    public static func read(from run: RunDirectory) throws(Problem) -> Checkpoint? {
        let path = run.path(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafetensorsReader.read(path: path)
        func fail(_ message: String) -> Problem { Problem(file: path, message: message) }
        let meta = file.metadata
        guard meta["format"] == format else { throw fail("is not a flowtrain checkpoint of this version") }
        func integer(_ key: String) throws(Problem) -> Int {
            guard let value = meta[key].flatMap({ Int($0) }) else { throw fail("has no '\(key)'") }
            return value
        }
        func double(_ text: String?) throws(Problem) -> Double {
            guard let bits = text.flatMap({ UInt64($0, radix: 16) }) else { throw fail("has a malformed number") }
            return Double(bitPattern: bits)
        }
        func prefix(_ key: String) throws(Problem) -> FilePrefix? {
            guard let text = meta[key] else { return nil }
            guard let prefix = FilePrefix(metadata: text) else { throw fail("has a malformed '\(key)'") }
            return prefix
        }
        guard let metrics = try prefix("metrics") else { throw fail("has no 'metrics'") }
        guard let statistics = meta["statistics"].flatMap({ try? JSONDecoder().decode([String: UInt32].self, from: Data($0.utf8)) })
        else { throw fail("has no 'statistics'") }
        var checkpoint = Checkpoint(epoch: try integer("epoch"), step: try integer("step"), epochs: try integer("epochs"),
                                    seed: try integer("seed"), bestEpoch: try integer("best_epoch"),
                                    bestLoss: try double(meta["best_loss"]), metrics: metrics, flow: meta["flow"] ?? "",
                                    statistics: statistics)
        checkpoint.trainLoss = try double(meta["train_loss"])
        checkpoint.seen = try integer("seen")
        for entry in (meta["task_losses"] ?? "").split(separator: ";") {
            let parts = entry.split(separator: ":")
            guard parts.count == 2, let count = Int(parts[1]) else { throw fail("has malformed task losses") }
            checkpoint.taskLosses.append((try double(String(parts[0])), count))
        }
        for (name, scores) in file.tensors where name.hasPrefix("epoch.") && name.hasSuffix(".scores") {
            guard let t = Int(name.dropFirst(6).dropLast(7)) else { continue }
            checkpoint.predictions[t] = (scores.values, file.tensors["epoch.\(t).labels"]?.values ?? [],
                                         file.tensors["epoch.\(t).counted"]?.values.map { $0 != 0 } ?? [])
        }
        checkpoint.diagnostics = try prefix("diagnostics")
        checkpoint.worstSamples = try prefix("worst_samples")
        if checkpoint.epoch < checkpoint.epochs {
            checkpoint.metricsText = try metrics.text(of: MetricsLog.fileName, in: run)
            checkpoint.diagnosticsText = try checkpoint.diagnostics?.text(of: LayerStatistics.fileName, in: run)
            checkpoint.worstSamplesText = try checkpoint.worstSamples?.text(of: WorstSamplesLog.fileName, in: run)
        }
        checkpoint.sampleLosses = file.tensors["epoch.sample_losses"]?.values ?? []
        checkpoint.file = file
        checkpoint.optimizerSteps = try integer("optimizer_steps")
        checkpoint.generators = (meta["generators"] ?? "").split(separator: ";", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }.map { $0.split(separator: ",").compactMap { UInt64($0) } }
        checkpoint.path = path
        return checkpoint
    }

    private var optimizerSteps = 0
    private var generators: [[UInt64]] = []
    private var path = ""

    /// Copies the checkpoint's weights, running statistics, optimiser state and generator
    /// states into a freshly compiled plan and optimiser of the same flow.
    func restore(plan: Plan, optimizer: any Optimizer) throws(Problem) {
        guard let file else { return }
        func fill(_ name: String, _ count: Int, _ target: UnsafeMutablePointer<Float>) throws(Problem) {
            guard let tensor = file.tensors[name], tensor.values.count == count else {
                throw Problem(file: path, message: "has no tensor '\(name)' of \(count) values; was it written for this flow?")
            }
            target.update(from: tensor.values, count: count)
        }
        try fill("parameters", plan.parameterCount, plan.values)
        for (name, values) in optimizer.stateBuffers { try fill("optimizer.\(name)", plan.trainableCount, values) }
        for s in plan.state { try fill("state.\(s.name)", s.shape.reduce(1, *), s.data) }
        guard generators.count == plan.generatorStates.count, generators.allSatisfy({ Random(state: $0) != nil }) else {
            throw Problem(file: path, message: "holds \(generators.count) generator states, the model has \(plan.generatorStates.count)")
        }
        optimizer.steps = optimizerSteps
        plan.generatorStates = generators
    }

    private static func bits(_ value: Double) -> String { String(value.bitPattern, radix: 16) }
}
