import Engine
import FlowSpec
import Tasks

/// A flow compiled into an engine plan, with the tensors the data pipeline fills.
public struct CompiledModel {
    public let plan: Plan
    /// Per input name: the tensor a batch of that input goes into (pixels, numbers, ids or
    /// one-hot indicators).
    public let inputs: [String: Tensor]
    /// Per input name: what kind of data it holds.
    public let inputKinds: [String: Input.Kind]
    /// The tasks in evaluation order.
    public let tasks: [CompiledTask]
    /// Per trunk branch: the tensor holding its output (what `embed` writes).
    public let branches: [String: Tensor]
    /// Every layer with a weight, in the order forward computes them: what the training
    /// diagnostics measure.
    public let layers: [WatchedLayer]
    /// One per masked language model: how a loaded batch is masked for it.
    let tokenMasking: [TokenMasking]

    /// Whether a pass with masked text is needed besides the plain one: evaluation measures
    /// the masked language models on masked text and every other task on the text as written.
    public var hasMaskedLanguageModel: Bool { !tokenMasking.isEmpty }
}

/// A layer with a weight (dense, conv, embedding, batchnorm, layernorm, a task's output layer)
/// as the training diagnostics see it. Recorded when compiling, so measuring it adds no op.
public struct WatchedLayer {
    /// The prefix of its parameters' names: `trunk.common.0.conv`, `heads.door_open.out`.
    public let name: String
    /// What it passes on: its output after the activation that directly follows it (fused into
    /// it or not), so that a ReLU's zeros are counted.
    public let output: Tensor
    /// Its weight, `<name>.weight` (the bias is left out: its norm says little).
    public let weight: Parameter
}

/// One task in a compiled plan: its output layer, what it is trained against, and its loss.
public struct CompiledTask {
    public let task: ResolvedTask
    public let output: TaskOutput
    public let logits: Tensor
    public let targets: Tensor
    public let mask: Tensor
    public let loss: any MaskedLoss
    /// Token tasks: the padding of the sequence the task reads (N, L), 1 where a token is.
    public let padding: Tensor?
}

extension CompiledTask {
    /// The task's decoder with the run's classes and statistics; `thresholds` from
    /// `thresholds.yaml` where tuned (0.5 otherwise), `temperature` from `calibration.yaml`
    /// where calibrated (1 otherwise).
    public func decoder(_ statistics: DataStatistics, thresholds: [Float]? = nil, temperature: Float = 1) -> TaskDecoder {
        let path = task.path.description
        let standard = statistics.regression[path]
        return TaskDecoder(output: output, names: statistics.classes[path] ?? task.spec.classes?.value ?? [],
                           thresholds: thresholds, scale: task.spec.scale, mean: standard?.mean ?? 0,
                           deviation: standard?.deviation ?? 1, temperature: temperature)
    }
}
