import FlowSpec
import Foundation

/// Collects a task's activated outputs and labels on the rows it counts on, batch by batch,
/// and turns them into its metrics (in the label's own units).
public struct TaskPredictions: Sendable {
    public let output: TaskOutput
    /// Bounded regression: labels were divided by this for training.
    let scale: Double
    /// Regression: labels were standardised with these.
    let mean: Double, deviation: Double
    /// Decision thresholds: one for a binary task, one per label for a multilabel task.
    let thresholds: [Float]
    /// The logits are divided by this before the activation (1 unless calibrated).
    let temperature: Float
    /// Class names (token classification: whether they follow the B-/I- scheme).
    let names: [String]

    /// Per counted row (multilabel: label; token tasks: token) its activation, label, and
    /// whether it counts (multilabel) or starts a row (token classification). A masked
    /// language model keeps per masked token its cross-entropy and whether its top id was right.
    private var scores: [Float] = []
    private var labels: [Float] = []
    private var counted: [Bool] = []

    public init(_ decoder: TaskDecoder) {
        output = decoder.output
        scale = decoder.scale
        mean = decoder.mean
        deviation = decoder.deviation
        thresholds = decoder.thresholds
        temperature = decoder.temperature
        names = decoder.names
    }

    /// What has been collected so far: saved with a checkpoint taken within an epoch.
    public var collected: (scores: [Float], labels: [Float], counted: [Bool]) { (scores, labels, counted) }

    /// How many of each have been collected so far.
    public var lengths: (scores: Int, labels: Int, counted: Int) { (scores.count, labels.count, counted.count) }

    /// Continues from what a checkpoint saved.
    public mutating func restore(scores: [Float], labels: [Float], counted: [Bool]) {
        (self.scores, self.labels, self.counted) = (scores, labels, counted)
    }

    /// Adds one batch: logits and targets as the task's tensors hold them, for the split rows
    /// `rows` (in batch order); `counts` says, per split row, whether the task counts there.
    /// `mask`, the batch's mask tensor when given, leaves out rows it zeroes: augmentation
    /// masks a coordinate label that its transforms moved out of the image. A training batch
    /// passes its mask and no `counts`: the loader filled the mask from the same counts, and
    /// looking them up at shuffled rows missed the cache at every row.
    public mutating func add(logits: UnsafeBufferPointer<Float>, targets: UnsafeBufferPointer<Float>,
                             rows: ArraySlice<Int>, counts: [Bool]?, mask: UnsafeBufferPointer<Float>? = nil) {
        let width = output.units
        let maskWidth = output.targetShape.reduce(1, *)
        guard let z = logits.baseAddress, let y = targets.baseAddress else { return }
        precondition(counts != nil || mask != nil, "rows are counted by the split's counts or the batch's mask")
        let byRow = counts != nil
        // One pass per type, with the activation inline: this runs for every task after every
        // training step, on the main thread between the pool's loops.
        (counts ?? []).withUnsafeBufferPointer { counts in
            func included(_ r: Int, _ row: Int) -> Bool {
                (!byRow || counts[row]) && (mask == nil || mask.unsafelyUnwrapped[r * maskWidth] > 0)
            }
            switch output.type {
            case .binary, .boundedRegression:
                for (r, row) in rows.enumerated() where included(r, row) {
                    scores.append(1 / (1 + exp(-z[r] / temperature)))
                    labels.append(y[r])
                }
            case .regression:
                for (r, row) in rows.enumerated() where included(r, row) {
                    scores.append(z[r])
                    labels.append(y[r])
                }
            case .multilabel:
                for (r, row) in rows.enumerated() where included(r, row) {
                    for j in 0..<width {
                        scores.append(1 / (1 + exp(-z[r * width + j] / temperature)))
                        labels.append(y[r * width + j])
                        counted.append(true)
                    }
                }
            case .classification:
                for (r, row) in rows.enumerated() where included(r, row) {
                    Self.appendActivation(output.type, UnsafeBufferPointer(start: z + r * width, count: width),
                                          temperature: temperature, to: &scores)
                    labels.append(y[r])
                }
            case .tokenClassification, .maskedLanguageModel:
                // Per position: the targets say which hold a labelled token (a masked language
                // model's output, which it masked), −1 elsewhere; a training batch's mask says
                // which count.
                let positions = output.positions, masked = output.type == .maskedLanguageModel
                for (r, row) in rows.enumerated() where !byRow || counts[row] {
                    var first = true
                    for p in (r * positions)..<((r + 1) * positions)
                    where (masked ? z[2 * p] : y[p]) >= 0 && (mask == nil || mask.unsafelyUnwrapped[p] > 0) {
                        if output.type == .maskedLanguageModel {
                            scores.append(z[2 * p + 1])
                            labels.append(z[2 * p])
                        } else {
                            Self.appendActivation(.classification, UnsafeBufferPointer(start: z + p * width, count: width),
                                                  temperature: temperature, to: &scores)
                            labels.append(y[p])
                            counted.append(first)
                        }
                        first = false
                    }
                }
            }
        }
    }

    /// The task's activation: σ for binary, multilabel and bounded regression; softmax for
    /// classification; identity for regression. A calibrated task's logits are divided by its
    /// `temperature` first (only binary, multilabel and classification tasks have one but 1).
    public static func activate(_ type: TaskType, _ logits: [Float], temperature: Float = 1) -> [Float] {
        var activated: [Float] = []
        logits.withUnsafeBufferPointer { appendActivation(type, $0, temperature: temperature, to: &activated) }
        return activated
    }

    /// Appends the activation of one row's logits to `output` (`activate`, without allocating
    /// once `output` has grown).
    static func appendActivation(_ type: TaskType, _ logits: UnsafeBufferPointer<Float>, temperature: Float = 1,
                                 to output: inout [Float]) {
        switch type {
        case .binary, .multilabel, .boundedRegression:
            for z in logits { output.append(1 / (1 + exp(-z / temperature))) }
        case .classification, .tokenClassification, .maskedLanguageModel:
            var top = -Float.infinity
            for z in logits { top = max(top, z / temperature) }
            let first = output.count
            var sum: Float = 0
            for z in logits {
                output.append(exp(z / temperature - top))
                sum += output[output.count - 1]
            }
            for i in first..<output.count { output[i] /= sum }
        case .regression:
            output.append(contentsOf: logits)
        }
    }

    /// `expected_calibration_error` and `brier_score` for binary, multilabel and classification
    /// tasks (what `eval` adds to the metrics above; nothing for the other types).
    public func calibrationMetrics() -> [Metric] {
        CalibrationMetrics.compute(output.type, scores: scores, labels: labels, width: output.units)
    }

    public func metrics() -> [Metric] {
        switch output.type {
        case .binary:
            return BinaryMetrics.compute(scores: scores, labels: labels, threshold: thresholds[0])
        case .classification:
            return ClassificationMetrics.compute(probabilities: scores, classes: output.classCount,
                                                 labels: labels.map { Int($0) })
        case .tokenClassification:
            return TokenClassificationMetrics.compute(probabilities: scores, classes: output.classCount,
                                                      labels: labels.map { Int($0) }, rowStarts: counted, names: names)
        case .maskedLanguageModel:
            return MaskedLanguageModelMetrics.compute(losses: scores, hits: labels)
        case .multilabel:
            return MultilabelMetrics.compute(scores: scores, labels: labels, counted: counted, labelCount: output.units,
                                             thresholds: thresholds)
        case .boundedRegression:
            return RegressionMetrics.compute(predictions: scores.map { Double($0) * scale },
                                             labels: labels.map { Double($0) * scale })
        case .regression:
            return RegressionMetrics.compute(predictions: scores.map { Double($0) * deviation + mean },
                                             labels: labels.map { Double($0) * deviation + mean })
        }
    }
}
