import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// A process of a data-parallel training may hold none of a batch's rows: its step on the
/// empty part gives losses of 0 over no rows and gradients of zero, never NaN, and leaves
/// nothing of the step before behind, so that what it adds to the summed gradient is nothing.
struct EmptyBatchTests {
    static let tabular = ShardedDataTests.flowText.replacingOccurrences(
        of: "layers: [dense: 4]", with: "layers: [dense: 8, layernorm, gelu, dropout: 0.3, dense: 8, leaky_relu, dense: 4]")

    static let image = """
        name: pictures
        data: {train: train.csv}
        inputs:
          image: {type: image, column: image, shape: [8, 8, 3]}
        trunk:
          common:
            from: image
            layers: [conv: {filters: 4, kernel: 3, padding: same}, relu, maxpool: 2, conv: {filters: 4, kernel: 3}, tanh, flatten, dense: 8]
        flow:
          blocked: {type: binary}
          x: {type: bounded_regression, scale: 8, when: not blocked, head: [dense: 4, sigmoid]}
        """

    /// Every sequence layer and both token tasks: a masked language model with no masked
    /// position, a token classification with no labelled token.
    static let sequence = """
        name: text
        data: {train: train.csv}
        inputs:
          text: {type: tokens, max_length: 8}
        trunk:
          seq:
            from: text
            layers: [embedding: 8, positional, conv1d: {filters: 8, kernel: 3, dilation: 2}, attention: {heads: 2},
                     transformer: {heads: 2, hidden: 16, dropout: 0.2}]
          sentence: {from: seq, layers: [pool: max]}
        flow:
          tags: {type: token_classification, input: seq, classes: [O, B-X, I-X]}
          words: {type: masked_language_model, input: seq, rate: 0.5}
          y: {type: binary, input: sentence}
        """

    @Test(arguments: [tabular, image, sequence])
    func anEmptyPartGivesZeroLossesAndGradients(flowText: String) throws {
        let (flow, directory) = try TabularEncodingTests.flow(flowText, files: [:])
        defer { try? FileManager.default.removeItem(at: directory) }
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 8, seed: 3)
        SyntheticBatch.fill(model, batch: 8, facts: facts, seed: 2)
        model.plan.forward(batch: 8, mode: .training)
        model.plan.backward(batch: 8)
        let plan = model.plan
        #expect((0..<plan.trainableCount).contains { plan.gradients[$0] != 0 }, "the full step has gradients")

        plan.forward(batch: 0, mode: .training)
        plan.backward(batch: 0)
        for task in model.tasks {
            #expect(task.loss.loss == 0 && task.loss.count == 0, "\(task.task.path)")
        }
        #expect(plan.totalLoss == 0)
        let nonZero = (0..<plan.trainableCount).filter { plan.gradients[$0] != 0 }
        #expect(nonZero.isEmpty, "\(nonZero.count) gradients are not zero, the first \(nonZero.first.map { plan.gradients[$0] } ?? 0)")
        plan.forward(batch: 0, mode: .evaluation)
        #expect(plan.totalLoss == 0)
    }
}
