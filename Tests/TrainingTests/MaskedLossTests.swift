import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// The masks of docs/semantics.md on a hand-made batch, end to end: a CSV is encoded, the plan's
/// loss and gradients are compared with values computed by hand from the rows that count.
///
/// Every head reads the one numeric input x directly, so with its weight set to 1 and bias 0 a
/// task's logit on row r is x_r: its loss is the mean over counted rows of BCE(x_r, y_r) and
/// d loss / d weight is the mean of (σ(x_r) − y_r) · x_r.
struct MaskedLossTests {
    static let flow = """
        name: masks
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [x], normalize: none}
        flow:
          gate: {type: binary}
          child: {type: binary, when: gate}
          group:
            when: not gate
            flow:
              inner: {type: binary, when: child}
              plain: {type: binary}
        """

    // Rows (x, gate, child, group.inner, group.plain):
    //  0: gate 1 → child counts; group needs not gate → inner and plain do not.
    //  1: gate 0 → child does not; plain counts; inner needs child, unknown → does not.
    //  2: gate missing → child, inner, plain do not count; gate itself does not.
    //  3: gate 1, child label missing → child does not count.
    //  4: gate 0, plain label missing → plain does not.
    static let csv = """
        x,gate,child,group.inner,group.plain
        0.5,1,1,1,0
        -1.0,0,0,1,1
        2.0,,1,1,1
        1.5,1,,0,0
        -0.5,0,1,0,
        """

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
    static func bce(_ x: Double, _ y: Double) -> Double { -(y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x))) }

    @Test func lossesAndGradientsComeOnlyFromRowsThatCount() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-masks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.csv.write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let flowPath = directory.appendingPathComponent("masks.yaml").path
        try Self.flow.write(toFile: flowPath, atomically: true, encoding: .utf8)
        let flow = try FlowLoader.load(path: flowPath)
        let data = try TrainingData.load(flow)
        let model = ModelCompiler.compile(flow, facts: data.statistics.facts, maxBatch: 5, seed: 1)
        for parameter in model.plan.parameters {
            parameter.value.update(repeating: parameter.name.hasSuffix(".weight") ? 1 : 0, count: parameter.count)
        }
        Batcher(model: model).fill(data.train, rows: Array(0..<5)[...])
        model.plan.forward(batch: 5, mode: .training)
        model.plan.backward(batch: 5)

        let x: [Double] = [0.5, -1.0, 2.0, 1.5, -0.5]
        let labels: [String: [Double]] = ["gate": [1, 0, 0, 1, 0], "child": [1, 0, 1, 0, 1],
                                          "group.inner": [1, 1, 1, 0, 0], "group.plain": [0, 1, 1, 0, 0]]
        let counted: [String: [Int]] = ["gate": [0, 1, 3, 4], "child": [0], "group.inner": [], "group.plain": [1]]
        for task in model.tasks {
            let path = task.task.path.description
            let rows = counted[path]!, y = labels[path]!
            #expect(task.loss.count == rows.count, "\(path)")
            let expectedLoss = rows.isEmpty ? 0 : rows.map { Self.bce(x[$0], y[$0]) }.reduce(0, +) / Double(rows.count)
            #expect(abs(Double(task.loss.loss) - expectedLoss) < 1e-6, "\(path) loss")
            let weight = model.plan.parameters.first { $0.name == "heads.\(path).out.weight" }!
            let expectedGradient = rows.isEmpty ? 0
                : rows.map { (Self.sigmoid(x[$0]) - y[$0]) * x[$0] }.reduce(0, +) / Double(rows.count)
            #expect(abs(Double(weight.grad[0]) - expectedGradient) < 1e-6, "\(path) gradient")
        }
    }
}
