@testable import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Shipped flows compile into plans whose parameters are exactly what `check` counts.
struct ModelCompilerTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// Values the synthetic facts give each symbol `check` prints.
    func value(of symbol: String, _ facts: DataFacts, _ flow: ResolvedFlow) -> Int {
        let name = String(symbol.drop { $0 != "(" }.dropFirst().dropLast())
        switch symbol.prefix { $0 != "(" } {
        case "vocabulary": return facts.vocabularySize[name] ?? 0
        case "classes", "labels": return facts.classes[TaskPath(name.split(separator: ".").map(String.init))]?.count ?? 0
        case "indicators": return 0  // synthetic numeric inputs have no missing values
        default:  // columns(glob): the width of the numeric input with that pattern
            let input = flow.inputs.first {
                if case .numeric(.pattern(name), _, _) = $0.input.kind { return true }
                return false
            }
            return input.flatMap { facts.numericWidth[$0.input.name] } ?? 0
        }
    }

    @Test(arguments: ["flows/security.yaml", "flows/orders.yaml", "bench/mlp.yaml"])
    func parameterCountsMatchCheck(_ path: String) throws {
        let flow = try FlowLoader.load(path: Self.root.appendingPathComponent(path).path)
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 4, seed: 1)
        let expected = (flow.trunkParameters + flow.headParameters).evaluate { value(of: $0, facts, flow) }
        #expect(model.plan.parameterCount == expected)
        #expect(model.tasks.map(\.task.path) == flow.tasks.map(\.path))
        #expect(Set(model.plan.parameters.map(\.name)).count == model.plan.parameters.count)
    }

    /// A ResNet stem and downsampling block: no conv bias, padded maxpool, a projection
    /// shortcut whose layers are named under `residual.shortcut.` and built after the block's.
    @Test func backboneLayersCompileWithTheirNames() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: t.csv}
            inputs:
              image: {type: image, shape: [16, 16, 3]}
            trunk:
              body:
                from: image
                layers:
                  - conv: {filters: 4, kernel: 7, stride: 2, padding: 3, bias: false}
                  - batchnorm
                  - maxpool: {size: 3, stride: 2, padding: 1}
                  - relu
                  - residual:
                      layers: [conv: {filters: 8, kernel: 3, stride: 2, padding: 1, bias: false}, batchnorm, relu,
                               conv: {filters: 8, kernel: 3, padding: 1, bias: false}, batchnorm]
                      shortcut: [conv: {filters: 8, kernel: 1, stride: 2, bias: false}, batchnorm]
                  - global_avgpool
            flow:
              p: {type: binary}
            """.utf8), file: "t.yaml")
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 4, seed: 1)
        let block = "trunk.body.4.residual"
        #expect(model.plan.parameters.map(\.name) == [
            "trunk.body.0.conv.weight", "trunk.body.1.batchnorm.weight", "trunk.body.1.batchnorm.bias",
            "\(block).0.conv.weight", "\(block).1.batchnorm.weight", "\(block).1.batchnorm.bias",
            "\(block).3.conv.weight", "\(block).4.batchnorm.weight", "\(block).4.batchnorm.bias",
            "\(block).shortcut.0.conv.weight", "\(block).shortcut.1.batchnorm.weight", "\(block).shortcut.1.batchnorm.bias",
            "heads.p.out.weight", "heads.p.out.bias",
        ])
        let expected = (flow.trunkParameters + flow.headParameters).evaluate { value(of: $0, facts, flow) }
        #expect(model.plan.parameterCount == expected)
        #expect(model.layers.map(\.name) == ["trunk.body.0.conv", "trunk.body.1.batchnorm", "\(block).0.conv",
                                             "\(block).1.batchnorm", "\(block).3.conv", "\(block).4.batchnorm",
                                             "\(block).shortcut.0.conv", "\(block).shortcut.1.batchnorm", "heads.p.out"])
        SyntheticBatch.fill(model, batch: 4, facts: facts, seed: 2)
        model.plan.forward(batch: 4, mode: .training)
        model.plan.backward(batch: 4)
        #expect(model.plan.totalLoss.isFinite)
    }

    /// Batchnorm, ReLU and a 2 × 2 max pooling at stride 2 that tiles the image compile into one
    /// op, whose pooled output the batchnorm layer's diagnostics watch; a pooling of another
    /// stride, or over an odd side, stays an op of its own.
    @Test func batchnormReLUAndTilingMaxpoolRunAsOneOp() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: t.csv}
            inputs:
              image: {type: image, shape: [8, 8, 3]}
            trunk:
              body:
                from: image
                layers:
                  - conv: {filters: 4, kernel: 3, padding: same}
                  - batchnorm
                  - relu
                  - maxpool: 2
                  - conv: {filters: 4, kernel: 3, padding: same}
                  - batchnorm
                  - relu
                  - maxpool: {size: 2, stride: 1}
                  - batchnorm
                  - relu
                  - maxpool: 2
                  - flatten
            flow:
              p: {type: binary}
            """.utf8), file: "t.yaml")
        let model = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow), maxBatch: 4, seed: 1)
        let norms = model.plan.ops.compactMap { $0 as? BatchNormOp }
        #expect(norms.map { $0.maxPoolWidth } == [8, nil, nil])
        #expect(norms.map(\.fusedReLU) == [true, true, true])
        #expect(model.plan.ops.filter { $0 is MaxPoolOp }.count == 2)
        #expect(model.layers.first { $0.name == "trunk.body.1.batchnorm" }?.output.shape == [4, 4, 4])
        #expect(model.layers.first { $0.name == "trunk.body.5.batchnorm" }?.output.shape == [4, 4, 4])
    }

    @Test func compiledFlowLearnsAFixedBatch() throws {
        let flow = try FlowLoader.load(path: Self.root.appendingPathComponent("bench/mlp.yaml").path)
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 64, seed: 1)
        SyntheticBatch.fill(model, batch: 64, facts: facts, seed: 2)
        #expect(model.tasks.allSatisfy { $0.mask.values(batch: 64).contains(1) })
        let step = TrainingStep(model: model, optimizer: Adam(plan: model.plan), clipNorm: nil)
        model.plan.forward(batch: 64, mode: .training)
        let first = model.plan.totalLoss
        for _ in 0..<30 { step.run(batch: 64, learningRate: 0.001) }
        model.plan.forward(batch: 64, mode: .training)
        #expect(model.plan.totalLoss < 0.5 * first, "loss \(first) → \(model.plan.totalLoss)")
    }

    /// `train.init` reaches every layer without an `init:` of its own — output layers, fused
    /// heads and a category input's table included — and a layer's own `init:` wins.
    @Test func initialisationRulesReachTheirLayers() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: t.csv}
            inputs:
              x: {type: numeric, columns: [a, b, c, d]}
              k: {type: category, column: k, embedding: 8}
            trunk:
              body: {from: [x, k], layers: [dense: {units: 64, init: he}, relu, dense: 64, relu]}
            flow:
              p: {type: binary}
              q: {type: binary, head: [dense: {units: 32, init: lecun}, relu]}
              r: {type: regression, head: [dense: 16, relu]}
            train:
              init: torch
            """.utf8), file: "t.yaml")
        let model = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow, size: 200), maxBatch: 4, seed: 1)
        let parameters = Dictionary(model.plan.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func values(_ name: String) throws -> [Float] {
            let p = try #require(parameters[name], "no parameter \(name) among \(parameters.keys.sorted())")
            return Array(UnsafeBufferPointer(start: p.value, count: p.count))
        }
        func largest(_ name: String) throws -> Float { try values(name).map(abs).max() ?? 0 }
        // He: normal (beyond the uniform limits below), biases zero.
        #expect(try largest("trunk.body.0.dense.weight") > 1 / Float(12).squareRoot() * 1.5)
        #expect(try values("trunk.body.0.dense.bias").allSatisfy { $0 == 0 })
        // torch: weights and biases within ±1/√fan-in, biases not zero.
        for (layer, fanIn) in [("trunk.body.2.dense", 64), ("heads.p.out", 64), ("heads.r.0.dense", 64),
                               ("heads.q.out", 32), ("heads.r.out", 16)] {
            let limit = 1 / Float(fanIn).squareRoot()
            #expect(try largest("\(layer).weight") <= limit, "\(layer)")
            #expect(try largest("\(layer).bias") > 0, "\(layer)")
        }
        // LeCun on the fused first layer of q's head: normal, biases zero.
        #expect(try values("heads.q.0.dense.bias").allSatisfy { $0 == 0 })
        #expect(try largest("heads.q.0.dense.weight") > 1 / Float(64).squareRoot())
        // The category table (200 × 8): N(0, 1) under torch, beyond every uniform rule's ±1.
        #expect(try largest("inputs.k.embedding.weight") > 2)
    }
}
