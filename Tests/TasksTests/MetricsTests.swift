import Testing
@testable import Tasks

/// Metric values against hand computation (worked out in the comments).
struct MetricsTests {
    func value(_ metrics: [Metric], _ name: String) -> Double? { metrics.first { $0.name == name }?.value }

    func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } ?? false }

    @Test func binary() {
        // Predictions at 0.5: 1 1 0 1 0 against labels 1 0 1 1 0: TP 2, FP 1, FN 1, TN 1.
        let m = BinaryMetrics.compute(scores: [0.9, 0.8, 0.3, 0.6, 0.1], labels: [1, 0, 1, 1, 0])
        #expect(close(value(m, "accuracy"), 0.6))
        #expect(close(value(m, "precision"), 2.0 / 3))
        #expect(close(value(m, "recall"), 2.0 / 3))
        #expect(close(value(m, "f1_score"), 2.0 / 3))
        // Positive–negative pairs ranked right: (0.9,0.8) (0.9,0.1) (0.3,0.1) (0.6,0.1) of 6.
        #expect(close(value(m, "roc_auc"), 4.0 / 6))
        #expect(m.allSatisfy { $0.count == 5 })
    }

    @Test func binaryTiesAndOneClass() {
        #expect(close(BinaryMetrics.rocAUC(scores: [0.5, 0.5, 0.2], labels: [1, 0, 0]), 0.75))
        let oneClass = BinaryMetrics.compute(scores: [0.2, 0.7], labels: [1, 1])
        #expect(value(oneClass, "roc_auc") == nil)
        #expect(close(value(oneClass, "recall"), 0.5))
        #expect(BinaryMetrics.compute(scores: [], labels: []).isEmpty)
    }

    @Test func classification() {
        // Rows: label 0 → predicted 0; label 1 → 2; label 1 → 1; label 1 → 0.
        let p: [Float] = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3, 0.5, 0.3, 0.2]
        let m = ClassificationMetrics.compute(probabilities: p, classes: 3, labels: [0, 1, 1, 1])
        #expect(close(value(m, "accuracy_1"), 0.5))
        #expect(value(m, "accuracy_3") == nil)  // three classes: top-3 is always right
        // Per class (precision, recall, f1): 0 (1/2, 1, 2/3); 1 (1, 1/3, 1/2); 2 (0, 0, 0).
        #expect(close(value(m, "precision"), 0.5))
        #expect(close(value(m, "recall"), (1 + 1.0 / 3) / 3))
        #expect(close(value(m, "f1_score"), (2.0 / 3 + 0.5) / 3))
    }

    @Test func topKAccuracy() {
        // Six classes; the label ranks 1st, 3rd and 6th: top-3 right twice, top-5 twice.
        let p: [Float] = [0.5, 0.1, 0.1, 0.1, 0.1, 0.1,
                          0.3, 0.25, 0.2, 0.1, 0.1, 0.05,
                          0.3, 0.25, 0.2, 0.1, 0.1, 0.05]
        let m = ClassificationMetrics.compute(probabilities: p, classes: 6, labels: [0, 2, 5])
        #expect(close(value(m, "accuracy_1"), 1.0 / 3))
        #expect(close(value(m, "accuracy_3"), 2.0 / 3))
        #expect(close(value(m, "accuracy_5"), 2.0 / 3))
    }

    @Test func multilabel() {
        // Two labels, two rows: (0.9,1) TP, (0.2,0) TN, (0.4,1) FN, (0.7,1) TP; a fifth entry
        // is not counted. Micro: P 1, R 2/3, F1 0.8. Per label F1: 2/3 and 1.
        let m = MultilabelMetrics.compute(scores: [0.9, 0.2, 0.4, 0.7, 0.9, 0.9], labels: [1, 0, 1, 1, 0, 0],
                                          counted: [true, true, true, true, false, false], labelCount: 2)
        #expect(close(value(m, "accuracy"), 0.75))
        #expect(close(value(m, "f1_score_micro"), 0.8))
        #expect(close(value(m, "f1_score_macro"), (2.0 / 3 + 1) / 2))
        #expect(m.allSatisfy { $0.count == 4 })
    }

    @Test func regression() {
        // Errors 0, 1, 2: MAE 1, RMSE √(5/3); labels 1, 3, 2 vary by 2 in all: R² = 1 − 5/2.
        let m = RegressionMetrics.compute(predictions: [1, 2, 4], labels: [1, 3, 2])
        #expect(close(value(m, "mean_absolute_error"), 1))
        #expect(close(value(m, "rmse"), (5.0 / 3).squareRoot()))
        #expect(close(value(m, "r2"), -1.5))
        #expect(value(RegressionMetrics.compute(predictions: [1, 2], labels: [3, 3]), "r2") == nil)
    }
}
