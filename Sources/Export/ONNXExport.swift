import Engine
import Evaluation
import FileFormats
import FlowSpec
import Foundation
import Training

/// A trained run as an ONNX model (`flowtrain export`): the whole flow in one graph — inputs
/// as a user has them at serving time (`ONNXInputs`), the trunk and heads in evaluation mode
/// (`ONNXLayers`), and per task its logits, activation, decision and where its precondition
/// lets it be reached (`ONNXTaskOutputs`), with the run's thresholds and temperatures baked in.
/// docs/commands/export.md describes the graph's inputs and outputs.
public enum ONNXExport {
    public static let defaultOpset = 17
    /// The ai.onnx operator sets the exporter writes: from 13 (Softmax over one axis, Slice and
    /// Unsqueeze with tensor inputs) to 21.
    public static let opsets = 13...21
    /// ai.onnx.ml's set for LabelEncoder with string keys (`keys_strings`, `values_int64s`).
    static let machineLearningOpset: Int64 = 3

    /// The model of `run` at `opset`. Throws a `Problem` naming the layer (and its place in the
    /// run's flow.yaml) that cannot be written, or the run's missing or unreadable weights.
    public static func model(_ run: TrainedRun, opset: Int = defaultOpset) throws(Problem) -> ONNXModel {
        guard opsets.contains(opset) else {
            throw Problem(message: "--opset \(opset): flowtrain writes ONNX operator sets \(opsets.lowerBound) to "
                          + "\(opsets.upperBound)", hint: "the default is \(defaultOpset)")
        }
        let compiled = try run.model(maxBatch: 1)
        // A masked language model is for training a trunk: what it predicts is not exported.
        let exported = compiled.tasks.indices.filter { compiled.tasks[$0].task.spec.type != .maskedLanguageModel }
        let tasks = exported.map { compiled.tasks[$0] }
        let weights = ExportedWeights(compiled.plan, file: run.directory.path("model.safetensors"))
        let graph = ONNXGraphBuilder(name: run.flow.flow.name, opset: opset)
        graph.reserve(ONNXTaskOutputs.outputNames(tasks.map(\.task)))
        var values = try ONNXInputs(graph: graph, weights: weights, statistics: run.state.statistics).add(run.flow.inputs)
        // Each tokens input's padding, and that of each branch of one source that has one.
        var paddings: [String: ExportedPadding] = [:]
        for input in run.flow.inputs.map(\.input) {
            guard case .tokens = input.kind, let ids = values[input.name] else { continue }
            paddings[input.name] = ExportedPadding(ids: ids.name)
        }
        let layers = ONNXLayers(graph: graph, weights: weights)
        for branch in run.flow.branches {
            let sources = branch.branch.sources.compactMap { values[$0.value] }
            let name = branch.branch.name
            guard var x = sources.first else {
                throw Problem("branch '\(name)' reads nothing the graph has", at: branch.branch.location)
            }
            if sources.count > 1 {
                // The engine's concat: each source flattened in its own order, end to end.
                let flat = sources.map { graph.float(graph.flatten($0)) }
                x = ExportedValue(name: graph.add("Concat", flat.map(\.name), "trunk.\(name).sources", [("axis", .integer(1))]),
                                  shape: [flat.reduce(0) { $0 + $1.width }])
            }
            let padding = sources.count == 1 ? branch.branch.sources.first.flatMap { paddings[$0.value] } : nil
            paddings[name] = padding
            values[name] = try layers.apply(branch.branch.layers, to: x, padding: padding, prefix: "trunk.\(name)")
        }
        var logits: [ExportedValue] = []
        var keeps: [String?] = []
        for task in tasks {
            let prefix = "heads.\(task.task.path)"
            guard let input = values[task.task.inputName] else {
                throw Problem("task '\(task.task.path)' reads '\(task.task.inputName)', which the graph does not have",
                              at: task.task.location)
            }
            let hidden = try layers.apply(task.task.spec.head, to: input, padding: paddings[task.task.inputName], prefix: prefix)
            logits.append(try layers.dense(hidden, units: task.output.units, bias: true, name: "\(prefix).out"))
            keeps.append(task.task.spec.type == .tokenClassification ? paddings[task.task.inputName]?.keep(graph) : nil)
        }
        let allDecoders = run.decoders(compiled)
        let decoders = exported.map { allDecoders[$0] }
        ONNXTaskOutputs(graph: graph).add(tasks.map(\.task), logits: logits, decoders: decoders, keeps: keeps)
        var model = ONNXModel(graph: graph.graph)
        model.irVersion = irVersion(opset)
        model.operatorSets = [("", Int64(opset))]
        if graph.graph.nodes.contains(where: { $0.domain == "ai.onnx.ml" }) {
            model.operatorSets.append(("ai.onnx.ml", machineLearningOpset))
        }
        model.producerVersion = FlowtrainVersion.current
        model.metadata = ExportMetadata(flow: run.flow, statistics: run.state.statistics, tasks: tasks.map(\.task),
                                        decoders: decoders).entries
        return model
    }

    /// The IR version released with each operator set (onnx/helper.py's VERSION_TABLE):
    /// ONNX Runtime refuses a model whose IR is older than its opset needs.
    static func irVersion(_ opset: Int) -> Int64 {
        switch opset {
        case ...14: 7
        case 15...18: 8
        case 19...20: 9
        default: 10
        }
    }
}
