import Engine
import FileFormats
import FlowSpec
import Foundation
import Tasks
import Training

/// A run directory read back: the flow as run, `state.json` (statistics, where the data is),
/// the thresholds when tuned, the temperatures when calibrated, and the best weights.
/// Everything `eval`, `tune-thresholds`, `calibrate`, `explain` and `predict` need comes from
/// here (docs/run-directory.md).
public struct TrainedRun {
    public let directory: RunDirectory
    public let flow: ResolvedFlow
    public let state: RunState
    /// `thresholds.yaml`, when `tune-thresholds` has written one.
    public let thresholds: Thresholds?
    /// `calibration.yaml`, when `calibrate` has written one.
    public let calibration: Calibration?

    /// Opens the run; `thresholds: false` leaves `thresholds.yaml` unread (`tune-thresholds`
    /// replaces it, whatever it holds), `calibration: false` likewise `calibration.yaml`. Throws
    /// an `UnusableRunDirectory` when there is no run, or the `Problem` of a file of the run.
    public static func open(_ directory: RunDirectory, thresholds readThresholds: Bool = true,
                            calibration readCalibration: Bool = true) throws -> TrainedRun {
        guard FileManager.default.fileExists(atPath: directory.url.path) else {
            throw UnusableRunDirectory.missing(directory: directory.url.path)
        }
        guard FileManager.default.fileExists(atPath: directory.path("state.json")) else {
            throw UnusableRunDirectory.notARun(directory: directory.url.path)
        }
        let flow: ResolvedFlow
        do { flow = try FlowLoader.load(path: directory.path("flow.yaml")) } catch {
            throw Problem(file: directory.path("flow.yaml"), message: error.description)
        }
        let state = try RunState.read(path: directory.path("state.json"), for: flow)
        var decisions: Thresholds.Decisions = [:]
        for task in flow.tasks {
            switch task.spec.type {
            case .binary: decisions[task.path.description] = []
            case .multilabel:
                decisions[task.path.description] = state.statistics.classes[task.path.description] ?? task.spec.classes?.value ?? []
            default: break
            }
        }
        let thresholds = readThresholds ? try Thresholds.read(path: directory.path("thresholds.yaml"), decisions: decisions) : nil
        let types = Dictionary(flow.tasks.map { ($0.path.description, $0.spec.type) }, uniquingKeysWith: { a, _ in a })
        let calibration = readCalibration ? try Calibration.read(path: directory.path(Calibration.fileName), tasks: types) : nil
        return TrainedRun(directory: directory, flow: flow, state: state, thresholds: thresholds, calibration: calibration)
    }

    /// One split of the flow's data, encoded with the run's statistics.
    public func split(_ name: String) throws(Problem) -> EncodedSplit {
        guard let split = try TrainingData.loadSplit(name, of: flow, flowDirectory: state.flowDirectory,
                                                     statistics: state.statistics), split.rows > 0 else {
            throw Problem(file: directory.path("flow.yaml"), message: "the flow's data has no \(name) split")
        }
        return split
    }

    /// Any CSV with the flow's input columns; label columns are optional, or not read at all
    /// with `labels: .ignored`.
    public func data(file: String, labels: SplitEncoder.LabelColumns = .optional) throws(Problem) -> EncodedSplit {
        let split = try TrainingData.loadFile(file, of: flow, statistics: state.statistics, labels: labels)
        guard split.rows > 0 else { throw Problem(file: file, message: "has no data rows") }
        return split
    }

    /// The model with the best epoch's weights, for batches of up to `maxBatch` rows.
    public func model(maxBatch: Int) throws(Problem) -> CompiledModel {
        let model = ModelCompiler.compile(flow, facts: state.statistics.facts, maxBatch: max(1, maxBatch), seed: 0)
        try ModelWeights.load(model.plan, from: directory.path("model.safetensors"))
        return model
    }

    /// Each task's decoder, with the tuned thresholds and the calibrated temperatures where
    /// there are some: the one place a run's logits get their activation.
    public func decoders(_ model: CompiledModel) -> [TaskDecoder] {
        decoders(model, calibration: calibration)
    }

    /// The decoders with the temperatures of `calibration` (nil: none).
    public func decoders(_ model: CompiledModel, calibration: Calibration?) -> [TaskDecoder] {
        model.tasks.map { task in
            let path = task.task.path.description
            let names = state.statistics.classes[path] ?? task.task.spec.classes?.value ?? []
            return task.decoder(state.statistics, thresholds: thresholds?.values(for: path, names: names),
                                temperature: calibration?.temperature(for: path) ?? 1)
        }
    }

    /// The model and its raw outputs on every row of `split`, batch by batch.
    public func outputs(_ split: EncodedSplit) throws(Problem) -> (model: CompiledModel, outputs: SplitOutputs) {
        let batchSize = min(flow.flow.training.batchSize, split.rows)
        let model = try model(maxBatch: batchSize)
        return (model, SplitOutputs.infer(model, split, batchSize: batchSize, maskingSeed: flow.flow.training.seed))
    }

    /// The model's outputs and decisions on every row of `split`, batch by batch.
    public func predict(_ split: EncodedSplit) throws(Problem) -> (model: CompiledModel, predictions: SplitPredictions) {
        let (model, outputs) = try outputs(split)
        let predictions = SplitPredictions(outputs, decoders: decoders(model), tasks: model.tasks.map(\.task),
                                           classes: state.statistics.facts.classes)
        return (model, predictions)
    }
}
