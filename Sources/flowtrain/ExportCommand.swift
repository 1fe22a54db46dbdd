import ArgumentParser
import Export
import FileFormats
import Foundation

/// `flowtrain export RUN_DIR`: the trained model as ONNX, preconditions included.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the trained model as an ONNX model, preconditions inside the graph.",
        discussion: """
            One graph input per flow input, as a user has it at serving time (numbers with NaN \
            for missing, category strings, 0–255 pixels, token ids); per task the outputs \
            <path>.logits, <path>.activated, <path>.decoded (thresholds and calibration baked \
            in) and <path>.reached (where the task's precondition holds on its parents' \
            decisions: where predict leaves a blank). See docs/commands/export.md.
            """)

    @OptionGroup var runOptions: RunOptions

    @Option(help: "Where to write the model (default: RUN_DIR/model.onnx).", completion: .file(extensions: ["onnx"]))
    var out: String?

    @Option(help: "The ai.onnx operator set (\(ONNXExport.opsets.lowerBound)–\(ONNXExport.opsets.upperBound)).")
    var opset = ONNXExport.defaultOpset

    func run() throws {
        do {
            let trained = try runOptions.open()
            let model = try ONNXExport.model(trained, opset: opset)
            let bytes = model.serialized()
            let path = out ?? trained.directory.path("model.onnx")
            try DurableFile.write(Data(bytes), to: path)
            let graph = model.graph
            CommandOutput.error("wrote \(path): \(graph.inputs.count) inputs, \(graph.outputs.count) outputs, "
                                + "\(graph.nodes.count) nodes, \(bytes.count) bytes, opset \(opset)")
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}
