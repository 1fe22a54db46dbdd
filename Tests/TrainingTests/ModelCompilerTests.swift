import Engine
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
}
