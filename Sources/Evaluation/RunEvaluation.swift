import FileFormats
import FlowSpec
import Foundation
import Tasks
import Training

/// `flowtrain eval`: a trained run's metrics on a split, twice per task — with preconditions
/// from the ground truth (the rows training and validation count) and from the model's own
/// decoded predictions (a task counts where its label is present and its precondition holds on
/// what the model decided for the tasks it depends on: the deployment view).
public enum RunEvaluation {
    /// One line of `evaluation.csv`.
    public struct Row: Sendable, Equatable {
        public var taskPath: String
        public var metric: Metric
        /// `ground_truth` or `predicted`.
        public var preconditions: String
        public var split: String
    }

    public static let header = ["task_path", "metric_name", "metric_res", "num_samples", "preconditions", "split"]

    /// Every task's metrics under both precondition views, decoded with the run's thresholds
    /// and temperatures; binary, multilabel and classification tasks add
    /// `expected_calibration_error` and `brier_score`.
    public static func rows(_ predictions: SplitPredictions, split name: String) -> [Row] {
        let split = predictions.outputs.split
        var rows: [Row] = []
        for (view, counts) in [("ground_truth", split.counts), ("predicted", predictions.predictedCounts)] {
            for t in predictions.tasks.indices {
                var collector = TaskPredictions(predictions.decoders[t])
                predictions.outputs.logits[t].withUnsafeBufferPointer { z in
                    split.targets[t].withUnsafeBufferPointer { y in
                        collector.add(logits: z, targets: y, rows: Array(0..<split.rows)[...], counts: counts[t])
                    }
                }
                for metric in collector.metrics() + collector.calibrationMetrics() {
                    rows.append(Row(taskPath: predictions.tasks[t].path.description, metric: metric,
                                    preconditions: view, split: name))
                }
            }
        }
        return rows
    }

    /// `evaluation.csv`: values at full precision.
    public static func csv(_ rows: [Row]) -> CSVWriter {
        var csv = CSVWriter(header: header)
        for row in rows {
            csv.append([row.taskPath, row.metric.name, String(row.metric.value), String(row.metric.count),
                        row.preconditions, row.split])
        }
        return csv
    }

    /// Reads `evaluation.csv` back (for the report).
    public static func read(path: String) -> [Row] {
        guard let table = try? CSVTable.read(path: path) else { return [] }
        let columns = header.map { table.column($0) }
        guard columns.allSatisfy({ $0 != nil }) else { return [] }
        return (0..<table.rowCount).compactMap { r in
            func field(_ c: Int) -> String { table.string(row: r, column: columns[c]!) }
            guard let value = Double(field(2)), let count = Int(field(3)) else { return nil }
            return Row(taskPath: field(0), metric: Metric(field(1), value, count: count), preconditions: field(4),
                       split: field(5))
        }
    }
}
