import Engine
import FlowSpec
import Foundation
import Tasks

/// `flowtrain eval`: a trained run's metrics on a split, twice per task — with preconditions
/// from the ground truth (the rows training and validation count) and from the model's own
/// decoded predictions (a task counts where its label is present and its precondition holds on
/// what the model decided for the tasks it depends on: the deployment view).
public struct RunEvaluation {
    /// One line of `evaluation.csv`.
    public struct Row: Sendable {
        public var taskPath: String
        public var metric: Metric
        public var preconditions: String
        public var split: String
    }

    public static let header = ["task_path", "metric_name", "metric_res", "num_samples", "preconditions", "split"]

    /// Reads the run's flow, state and best weights, the split's data, and evaluates.
    public static func evaluate(run: RunDirectory, split name: String) throws(DataError) -> [Row] {
        guard let stateData = FileManager.default.contents(atPath: run.path("state.json")),
              let state = try? JSONDecoder().decode(RunState.self, from: stateData)
        else {
            throw DataError(file: run.url.path, message: "is not a flowtrain run: state.json is missing or unreadable")
        }
        let flow: ResolvedFlow
        do { flow = try FlowLoader.load(path: run.path("flow.yaml")) } catch {
            throw DataError(file: run.path("flow.yaml"), message: error.description)
        }
        let data = try TrainingData.load(flow, flowDirectory: state.flowDirectory, statistics: state.statistics)
        guard let split = name == "train" ? data.train : name == "valid" ? data.valid : data.test, split.rows > 0 else {
            throw DataError(file: run.url.path, message: "the flow's data has no \(name) split")
        }
        let batchSize = min(flow.flow.training.batchSize, split.rows)
        let model = ModelCompiler.compile(flow, facts: state.statistics.facts, maxBatch: batchSize, seed: 0)
        try ModelWeights.load(model.plan, from: run.path("model.safetensors"))

        // Every row's logits per task, then the decisions the predicted view gates on.
        var logits = model.tasks.map { [Float](repeating: 0, count: split.rows * $0.output.units * $0.output.positions) }
        let batcher = Batcher(model: model)
        var start = 0
        while start < split.rows {
            let rows = Array(start..<min(start + batchSize, split.rows))
            batcher.fill(split, rows: rows[...])
            model.plan.forward(batch: rows.count, mode: .evaluation)
            for (t, task) in model.tasks.enumerated() {
                let size = task.logits.sampleSize
                for (b, row) in rows.enumerated() {
                    for i in 0..<size { logits[t][row * size + i] = task.logits.data[b * size + i] }
                }
            }
            start += rows.count
        }
        let decided = PreconditionMask(tasks: flow.tasks, classes: state.statistics.facts.classes)
            .counts(rows: split.rows) { t, r in
                let size = model.tasks[t].logits.sampleSize
                let z = logits[t][(r * size)..<((r + 1) * size)]
                switch model.tasks[t].task.spec.type {
                case .binary: return z.first! >= 0 ? 1 : 0  // σ(z) ≥ 0.5
                case .classification: return Float(z.indices.max { z[$0] < z[$1] }! - z.startIndex)
                default: return 0
                }
            }
        var rows: [Row] = []
        let allRows = Array(0..<split.rows)[...]
        for (view, counts) in [("ground_truth", split.counts),
                               ("predicted", zip(split.present, decided).map { zip($0, $1).map { $0 && $1 } })] {
            for (t, task) in model.tasks.enumerated() {
                var predictions = SplitEvaluation.predictionsCollector(for: task, state.statistics)
                logits[t].withUnsafeBufferPointer { z in
                    split.targets[t].withUnsafeBufferPointer { y in
                        predictions.add(logits: z, targets: y, rows: allRows, counts: counts[t])
                    }
                }
                for metric in predictions.metrics() {
                    rows.append(Row(taskPath: task.task.path.description, metric: metric, preconditions: view, split: name))
                }
            }
        }
        return rows
    }
}
