import FlowSpec
import Foundation
import Testing
@testable import Tasks

/// Expected calibration error and Brier score against hand computation on tiny batches, and
/// the temperature as decoders and metric collectors apply it.
struct CalibrationMetricsTests {
    func metric(_ metrics: [Metric], _ name: String) -> Metric? { metrics.first { $0.name == name } }

    @Test func binary() {
        // Bins of 1/15: 0.1 and 0.12 in bin 1 (mean confidence 0.11, one positive of two),
        // 0.8 in bin 12, 0.95 in bin 14. ECE = 2/4·|0.5 − 0.11| + 1/4·0.2 + 1/4·0.05 = 0.2575.
        // Brier = (0.01 + 0.7744 + 0.04 + 0.0025) / 4 = 0.206725.
        let metrics = CalibrationMetrics.compute(.binary, scores: [0.1, 0.12, 0.8, 0.95], labels: [0, 1, 1, 1], width: 1)
        #expect(metrics.map(\.name) == ["expected_calibration_error", "brier_score"])
        #expect(abs(metric(metrics, "expected_calibration_error")!.value - 0.2575) < 1e-6)
        #expect(abs(metric(metrics, "brier_score")!.value - 0.206725) < 1e-6)
        #expect(metrics.allSatisfy { $0.count == 4 })
        let bins = CalibrationMetrics.bins(confidences: [0.1, 0.12, 0.8, 0.95, 1.0, 0], outcomes: [0, 1, 1, 1, 1, 0])
        #expect(bins.count == 15 && bins.map(\.count) == [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2])
        #expect(abs(bins[1].confidence - 0.11) < 1e-12 && bins[1].accuracy == 0.5 && bins[2].confidence.isNaN)
    }

    @Test func classification() {
        // Row 0: top 0.7, right; row 1: top 0.5 (class 1), label 2, wrong; row 2: a tie between
        // classes 0 and 1 decodes to 0, so label 1 is wrong at confidence 0.4.
        // ECE = 1/3·0.3 + 1/3·0.5 + 1/3·0.4 = 0.4. Brier (multi-class): row 0 0.09 + 0.04 + 0.01 =
        // 0.14; row 1 0.09 + 0.25 + 0.64 = 0.98; row 2 0.16 + 0.36 + 0.04 = 0.56; mean 0.56.
        let scores: [Float] = [0.7, 0.2, 0.1, 0.3, 0.5, 0.2, 0.4, 0.4, 0.2]
        let metrics = CalibrationMetrics.compute(.classification, scores: scores, labels: [0, 2, 1], width: 3)
        #expect(abs(metric(metrics, "expected_calibration_error")!.value - 0.4) < 1e-6)
        #expect(abs(metric(metrics, "brier_score")!.value - 0.56) < 1e-6)
        #expect(metrics.allSatisfy { $0.count == 3 })
    }

    @Test func multilabelPoolsEveryLabel() {
        // Pairs (0.9, 1), (0.2, 0), (0.6, 0), (0.1, 0), each alone in its bin: ECE = (0.1 + 0.2 +
        // 0.6 + 0.1) / 4 = 0.25; Brier = (0.01 + 0.04 + 0.36 + 0.01) / 4 = 0.105; 4 decisions.
        let metrics = CalibrationMetrics.compute(.multilabel, scores: [0.9, 0.2, 0.6, 0.1], labels: [1, 0, 0, 0], width: 2)
        #expect(abs(metric(metrics, "expected_calibration_error")!.value - 0.25) < 1e-6)
        #expect(abs(metric(metrics, "brier_score")!.value - 0.105) < 1e-6)
        #expect(metrics.allSatisfy { $0.count == 4 })
    }

    @Test func otherTypesAndNoRowsHaveNone() {
        #expect(CalibrationMetrics.compute(.regression, scores: [0.5], labels: [1], width: 1).isEmpty)
        #expect(CalibrationMetrics.compute(.boundedRegression, scores: [0.5], labels: [1], width: 1).isEmpty)
        #expect(CalibrationMetrics.compute(.binary, scores: [], labels: [], width: 1).isEmpty)
        // A NaN score has no bin: the error is NaN, not a crash.
        let diverged = CalibrationMetrics.compute(.binary, scores: [.nan, 0.5], labels: [1, 0], width: 1)
        #expect(diverged.first?.value.isNaN == true)
    }

    @Test func decodersAndCollectorsDivideByTheTemperature() {
        let binary = TaskDecoder(output: TaskOutput(type: .binary, classCount: 1), temperature: 2)
        let sigmoidOfOne: Float = 1 / (1 + Float(exp(-1.0)))
        #expect(binary.decode([2]).activated == [sigmoidOfOne])
        #expect(binary.decode([2]).value == .flag(true))
        let classes = TaskDecoder(output: TaskOutput(type: .classification, classCount: 2), temperature: 0.5)
        #expect(classes.decode([0, 1]).activated == TaskPredictions.activate(.classification, [0, 2]))
        // The collector behind eval's metrics uses the decoder's temperature too.
        var collector = TaskPredictions(binary)
        let logits: [Float] = [2], targets: [Float] = [1]
        logits.withUnsafeBufferPointer { z in
            targets.withUnsafeBufferPointer { y in collector.add(logits: z, targets: y, rows: [0], counts: [true]) }
        }
        let brier = Double(1 - sigmoidOfOne) * Double(1 - sigmoidOfOne)
        #expect(abs(collector.calibrationMetrics()[1].value - brier) < 1e-7)
    }
}
