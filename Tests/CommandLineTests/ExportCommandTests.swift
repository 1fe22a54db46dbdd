import Foundation
import ProtobufFields
import Testing

/// `flowtrain export`: the model file read back with the tests' own protobuf decoder, and every
/// refusal an exit 2 with a located message.
struct ExportCommandTests {
    /// A trained tabular run in a scratch directory (the fixture's flow with `layers`).
    static func trainedRun(layers: String = "[dense: 8, relu]") throws -> (directory: URL, run: URL) {
        let directory = try scratchDirectory()
        let flow = try TabularRunFixture.write(in: directory, layers: layers)
        let runDirectory = directory.appendingPathComponent("run")
        let training = try run(["train", flow.path, "--run-dir", runDirectory.path])
        #expect(training.status == 0, "\(training.stderr)")
        return (directory, runDirectory)
    }

    @Test func theModelHasOneInputPerFlowInputFourOutputsPerTaskAndMetadata() throws {
        let (directory, runDirectory) = try Self.trainedRun()
        defer { try? FileManager.default.removeItem(at: directory) }
        let exported = try run(["export", runDirectory.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        let path = runDirectory.appendingPathComponent("model.onnx").path
        #expect(exported.stderr.hasPrefix("wrote \(path): 2 inputs, 12 outputs, "))
        let model = try #require(ProtobufFields.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        // ir_version 8 for opset 17; ai.onnx 17 and ai.onnx.ml 3 (the category's LabelEncoder).
        #expect(model.first == .varint(1, 8))
        let sets = ProtobufFields.messages(model, 8).map { (ProtobufFields.strings($0, 1).first ?? "", $0.last) }
        #expect(sets.map(\.0) == ["", "ai.onnx.ml"] && sets.map(\.1) == [.varint(2, 17), .varint(2, 3)])
        let graph = try #require(ProtobufFields.messages(model, 7).first)
        let inputs = ProtobufFields.messages(graph, 11).map { ProtobufFields.strings($0, 1).first ?? "" }
        #expect(inputs == ["x", "kind"])
        let outputs = ProtobufFields.messages(graph, 12).map { ProtobufFields.strings($0, 1).first ?? "" }
        #expect(outputs == ["open", "colour", "size"].flatMap { task in
            ["logits", "activated", "decoded", "reached"].map { "\(task).\($0)" }
        })
        let metadata = ProtobufFields.messages(model, 14).map {
            (ProtobufFields.strings($0, 1).first ?? "", ProtobufFields.strings($0, 2).first ?? "")
        }
        #expect(metadata.map(\.0) == ["flowtrain.flow", "flowtrain.version", "flowtrain.inputs", "flowtrain.tasks"])
        #expect(metadata.first?.1 == "tabular")
        let tasks = metadata.last?.1 ?? ""
        #expect(tasks.contains(#""path":"colour""#) && tasks.contains(#""when":"open""#))
        let inputsJSON = metadata[2].1
        #expect(inputsJSON.contains(#""columns":["a","b"]"#) && inputsJSON.contains(#""vocabulary":["<unknown>","blue","green","red"]"#))
        // Every node's inputs are initializers, graph inputs or earlier nodes' outputs: a
        // topological order, as onnx.proto requires.
        var known = Set(inputs + ProtobufFields.messages(graph, 5).map { ProtobufFields.strings($0, 8).first ?? "" })
        for node in ProtobufFields.messages(graph, 1) {
            for input in ProtobufFields.strings(node, 1) { #expect(known.contains(input), "\(input) used before it is made") }
            known.formUnion(ProtobufFields.strings(node, 2))
        }
        #expect(outputs.allSatisfy(known.contains))
    }

    @Test func refusalsAreExit2WithLocatedMessages() throws {
        let (directory, runDirectory) = try Self.trainedRun(layers: "[dense: 8, relu, layernorm]")
        defer { try? FileManager.default.removeItem(at: directory) }
        // LayerNormalization is opset 17's: at 16 the layer is named where the run's flow has it.
        let flowText = try String(contentsOf: runDirectory.appendingPathComponent("flow.yaml"), encoding: .utf8)
        let lines = flowText.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("layernorm") })
        let column = try #require(lines[line].range(of: "layernorm")).lowerBound.utf16Offset(in: lines[line]) + 1
        let old = try run(["export", runDirectory.path, "--opset", "16"])
        #expect(old.status == 2)
        #expect(old.stderr == "\(runDirectory.path)/flow.yaml:\(line + 1):\(column): cannot export 'layernorm' at "
                + "opset 16: LayerNormalization needs opset 17 or later (export with --opset 17)\n")
        let unknown = try run(["export", runDirectory.path, "--opset", "12"])
        #expect(unknown.status == 2 && unknown.stderr.contains("flowtrain writes ONNX operator sets 13 to 21"))
        #expect(!FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("model.onnx").path))
        // A run without its weights.
        try FileManager.default.removeItem(at: runDirectory.appendingPathComponent("model.safetensors"))
        let unweighted = try run(["export", runDirectory.path])
        #expect(unweighted.status == 2 && unweighted.stderr.contains("model.safetensors"), "\(unweighted.stderr)")
        // Not a run at all.
        let notARun = try run(["export", directory.path])
        #expect(notARun.status == 2 && notARun.stderr.contains("state.json"), "\(notARun.stderr)")
    }

    /// A tokens input exports as int64 ids with its vocabulary (reserved ids first) and how to
    /// split text in the metadata; the sequence layers export too, but the transformer's
    /// layernorms need opset 17, and at 16 the transformer is named where the run's flow has it.
    @Test func tokensAndSequenceLayersExport() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "text,y\nNot good,0\ngood,1\nvery good,1\nnot bad,1\n".write(to: directory.appendingPathComponent("train.csv"),
                                                                    atomically: true, encoding: .utf8)
        func trained(_ name: String, layers: String) throws -> URL {
            let flow = directory.appendingPathComponent("\(name).yaml")
            try """
                name: \(name)
                data: {train: train.csv}
                inputs:
                  text: {type: tokens, max_length: 4, lowercase: true}
                trunk:
                  body: {from: text, layers: \(layers)}
                flow:
                  y: {type: binary}
                train: {epochs: 1, batch_size: 2}
                """.write(to: flow, atomically: true, encoding: .utf8)
            let runDirectory = directory.appendingPathComponent("run-\(name)")
            let training = try run(["train", flow.path, "--run-dir", runDirectory.path])
            #expect(training.status == 0, "\(training.stderr)")
            return runDirectory
        }
        let plain = try trained("plain", layers: "[embedding: 4, global_avgpool]")
        let exported = try run(["export", plain.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        let model = try #require(ProtobufFields.decode(Array(try Data(contentsOf: plain.appendingPathComponent("model.onnx")))))
        let metadata = ProtobufFields.messages(model, 14).map {
            (ProtobufFields.strings($0, 1).first ?? "", ProtobufFields.strings($0, 2).first ?? "")
        }
        let inputs = try #require(metadata.first { $0.0 == "flowtrain.inputs" }?.1)
        #expect(inputs.contains(#""vocabulary":["<pad>","<unknown>","<mask>","bad","good","not","very"]"#), "\(inputs)")
        #expect(inputs.contains(#""lowercase":true"#) && inputs.contains(#""tokenize":"whitespace""#), "\(inputs)")

        let sequence = try trained("sequence", layers: "[embedding: 4, positional, conv1d: {filters: 4, kernel: 2}, "
                                   + "transformer: {heads: 2}, attention: 2, pool: max]")
        let full = try run(["export", sequence.path])
        #expect(full.status == 0, "\(full.stderr)")
        let sequenceModel = try #require(ProtobufFields.decode(Array(try Data(contentsOf: sequence.appendingPathComponent("model.onnx")))))
        let graph = try #require(ProtobufFields.messages(sequenceModel, 7).first)
        let operators = Set(ProtobufFields.messages(graph, 1).compactMap { ProtobufFields.strings($0, 4).first })
        #expect(operators.isSuperset(of: ["Conv", "MatMul", "Softmax", "LayerNormalization", "Where", "ReduceMax"]), "\(operators)")
        let refused = try run(["export", sequence.path, "--opset", "16"])
        let flowText = try String(contentsOf: sequence.appendingPathComponent("flow.yaml"), encoding: .utf8)
        let lines = flowText.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("transformer") })
        let column = try #require(lines[line].range(of: "transformer")).lowerBound.utf16Offset(in: lines[line]) + 1
        #expect(refused.status == 2)
        #expect(refused.stderr == "\(sequence.path)/flow.yaml:\(line + 1):\(column): cannot export 'transformer' at "
                + "opset 16: its layernorms need LayerNormalization, opset 17 or later (export with --opset 17)\n")
    }
}
