import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// A trunk branch starts from an earlier run's weights (`init:`) and stays as it is
/// (`trainable: false`): no gradient, no optimiser state, no change.
struct TrunkInitializationTests {
    static func flow(_ trunkExtras: String) -> String {
        """
        name: transfer
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [f1, f2, f3], normalize: none}
        trunk:
          body: {from: x, layers: [dense: 8, relu, layernorm, dense: 4, relu]\(trunkExtras)}
        flow:
          open: {type: binary}
          size: {type: regression, when: open}
        """
    }

    static let csv = "f1,f2,f3,open,size\n" + (0..<64).map { i in
        "\(Double(i % 7) / 3),\(Double(i % 5) / 2),\(Double(i % 3)),\(i % 2),\(i % 2 == 1 ? String(i % 9) : "")"
    }.joined(separator: "\n") + "\n"

    @Test func aFrozenTrunkStartsFromTheEarlierRunAndStaysThere() throws {
        let directory = try temporaryDirectory("transfer")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.csv.write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let first = try train(Self.flow(""), in: directory, run: "first")
        let earlier = try SafetensorsReader.read(path: first.path("model.safetensors"))

        let text = Self.flow(", init: first/model.safetensors, trainable: false")
        let flow = try FlowLoader.load(bytes: Array(text.utf8), file: directory.appendingPathComponent("flow.yaml").path)
        let data = try TrainingData.load(flow)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 16, seed: 2)
        let plan = model.plan
        try TrunkInitialization.apply(flow, to: plan, flowDirectory: directory.path)
        let trunk = plan.parameters.filter { $0.name.hasPrefix("trunk.body.") }
        #expect(trunk.count == 6)  // two dense layers and a layernorm, weight and bias each
        for p in trunk {
            #expect(Array(UnsafeBufferPointer(start: p.value, count: p.count)) == earlier.tensors[p.name]?.values, "\(p.name)")
            #expect(p.frozen)
        }
        // Frozen parameters come last and have no optimiser state.
        let trunkValues = trunk.reduce(0) { $0 + $1.count }
        #expect(plan.trainableCount == plan.parameterCount - trunkValues)
        #expect(trunk.allSatisfy { $0.offset >= plan.trainableCount })
        // Fed by the data alone, the frozen branch runs forward only.
        #expect(plan.backwardOps.count == plan.ops.count - 3)  // dense+relu, layernorm, dense+relu

        // Trained, the trunk keeps the earlier run's weights while the heads learn.
        let second = try train(text, in: directory, run: "second")
        let after = try SafetensorsReader.read(path: second.path("model-last.safetensors"))
        for p in trunk { #expect(after.tensors[p.name]?.values == earlier.tensors[p.name]?.values, "\(p.name)") }
        let head = "heads.open.out.weight"
        let initial = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 16, seed: 1).plan
        let start = try #require(initial.parameters.first { $0.name == head })
        #expect(after.tensors[head]?.values != Array(UnsafeBufferPointer(start: start.value, count: start.count)))
    }

    @Test func aMissingOrMisshapenTensorIsALocatedError() throws {
        let directory = try temporaryDirectory("transfer")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.csv.write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        _ = try train(Self.flow(""), in: directory, run: "first")
        func error(_ extras: String, _ layers: String = "[dense: 8, relu, layernorm, dense: 4, relu]") throws -> String {
            let text = Self.flow(extras).replacingOccurrences(of: "[dense: 8, relu, layernorm, dense: 4, relu]", with: layers)
            let flow = try FlowLoader.load(bytes: Array(text.utf8), file: directory.appendingPathComponent("flow.yaml").path)
            let data = try TrainingData.load(flow)
            let plan = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 1, seed: 1).plan
            do {
                try TrunkInitialization.apply(flow, to: plan, flowDirectory: directory.path)
                return ""
            } catch {
                return error.description
            }
        }
        let file = directory.appendingPathComponent("first/model.safetensors").path
        let flowFile = directory.appendingPathComponent("flow.yaml").path
        // Every tensor is checked before any is copied: the first problems are all reported.
        let missing = try error(", init: first/model.safetensors, prefix: trunk.bdy.").split(separator: "\n")
        #expect(missing.count == 6 && missing.last?.hasPrefix("… ") == true, "\(missing)")
        #expect(missing[1].hasSuffix("has no tensor 'trunk.bdy.0.dense.bias' for 'trunk.body.0.dense.bias' "
                                     + "(did you mean 'trunk.body.0.dense.bias'?)"))
        #expect(missing[0]
                == "\(flowFile):6:78: branch 'body': init: \(file) has no tensor 'trunk.bdy.0.dense.weight' for "
                + "'trunk.body.0.dense.weight' (did you mean 'trunk.body.0.dense.weight'?)")
        let misshapen = try error(", init: first/model.safetensors", "[dense: 9, relu]").split(separator: "\n")
        #expect(misshapen.count == 2 && misshapen[1].hasSuffix("tensor 'trunk.body.0.dense.bias' is [8], "
                                                              + "'trunk.body.0.dense.bias' needs [9]"))
        #expect(misshapen[0]
                == "\(flowFile):6:51: branch 'body': init: \(file): tensor 'trunk.body.0.dense.weight' is [8, 3], "
                + "'trunk.body.0.dense.weight' needs [9, 3]")
    }

    @Test func prefixWithoutInitIsAFlowError() {
        let text = Self.flow(", prefix: trunk.x.")
        #expect(throws: Problem.self) { try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml") }
    }

    private func train(_ text: String, in directory: URL, run name: String) throws -> RunDirectory {
        let flow = try FlowLoader.load(bytes: Array(text.utf8), file: directory.appendingPathComponent("flow.yaml").path)
        let data = try TrainingData.load(flow)
        let run = try RunDirectory.create(flowName: "transfer", explicit: directory.appendingPathComponent(name).path)
        let trainer = Trainer(flow: flow, data: data, run: run, epochs: 2, seed: 1, flowText: text) { _, _ in }
        #expect(try trainer.train() == .finished)
        return run
    }
}
