import Foundation
import Testing
@testable import Tasks

/// Token classification's metrics (token accuracy, macro F1, seqeval's entity F1) and the
/// masked language model's, on cases worked by hand.
struct TokenMetricsTests {
    /// conlleval's reading: B- starts, I- of the same type continues, an I- after anything
    /// else starts an entity too, O ends one.
    @Test func entitySpansReadAsSeqeval() {
        let tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-PER", "B-ORG"]
        #expect(EntitySpans.spans(tags) == [
            .init(start: 0, end: 2, type: "PER"), .init(start: 3, end: 5, type: "LOC"), .init(start: 5, end: 6, type: "LOC"),
            .init(start: 6, end: 7, type: "PER"), .init(start: 7, end: 8, type: "ORG"),
        ])
        #expect(EntitySpans.spans(["O", "O"]).isEmpty)
        #expect(EntitySpans.applies(to: ["B-X", "I-X", "O"]))
        #expect(!EntitySpans.applies(to: ["O", "PER"]))
        #expect(!EntitySpans.applies(to: ["I-X", "O"]))  // no B-: not the scheme
    }

    /// Two rows; classes O, B-P, I-P. Row 1: truth B-P I-P O, predicted B-P O O (the span cut
    /// short: no match). Row 2: truth O B-P, predicted O B-P (a match). Entities: 2 true, 2
    /// found, 1 right: precision = recall = F1 = 0.5. Tokens: 4 of 5 right. An entity never
    /// spans two rows, even when one ends and the next begins with its tags.
    @Test func entityF1CountsExactSpansOnly() {
        let names = ["O", "B-P", "I-P"]
        func onehot(_ classes: [Int]) -> [Float] { classes.flatMap { c in (0..<3).map { $0 == c ? 0.9 : 0.05 } } }
        let metrics = TokenClassificationMetrics.compute(probabilities: onehot([1, 0, 0, 0, 1]), classes: 3,
                                                         labels: [1, 2, 0, 0, 1], rowStarts: [true, false, false, true, false],
                                                         names: names)
        func value(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
        #expect(value("accuracy_1") == 0.8)
        #expect(value("entity_f1") == 0.5)
        #expect(value("entity_precision") == 0.5)
        #expect(value("entity_recall") == 0.5)
        #expect(metrics.first { $0.name == "entity_f1" }?.count == 2)
        // Truth B-P | I-P in two rows is two entities (a lone I- starts one), as the predicted
        // B-P | B-P are: all found. Read as one row, the truth would be one entity, never found.
        let split = TokenClassificationMetrics.compute(probabilities: onehot([1, 1]), classes: 3, labels: [1, 2],
                                                       rowStarts: [true, true], names: names)
        #expect(split.first { $0.name == "entity_f1" }?.value == 1)
        let noScheme = TokenClassificationMetrics.compute(probabilities: onehot([1, 0]), classes: 3, labels: [1, 0],
                                                          rowStarts: [true, false], names: ["O", "PER", "LOC"])
        #expect(!noScheme.contains { $0.name.hasPrefix("entity") })
    }

    /// Accuracy over the masked tokens and e to the mean cross-entropy.
    @Test func maskedLanguageModelMetrics() {
        let metrics = MaskedLanguageModelMetrics.compute(losses: [1, 2, 3, 2], hits: [1, 0, 0, 1])
        #expect(metrics.map(\.name) == ["masked_accuracy", "perplexity"])
        #expect(metrics[0].value == 0.5)
        #expect(abs(metrics[1].value - exp(2.0)) < 1e-9)
        #expect(MaskedLanguageModelMetrics.compute(losses: [], hits: []).isEmpty)
    }

    /// A token classification's predictions collected per labelled token (targets −1 left
    /// out), the rows its counts skip left out whole.
    @Test func predictionsCountLabelledTokensOfCountedRows() {
        let decoder = TaskDecoder(output: TaskOutput(type: .tokenClassification, classCount: 2, positions: 3), names: ["O", "B-X"])
        var collector = TaskPredictions(decoder)
        // Rows of 3 positions × 2 classes: row 0 predicts O B-X (pad), row 1 is not counted.
        let logits: [Float] = [2, 0, 0, 2, 0, 0, 0, 2, 0, 2, 0, 2]
        let targets: [Float] = [0, 0, -1, 1, 1, 1]
        logits.withUnsafeBufferPointer { z in
            targets.withUnsafeBufferPointer { y in collector.add(logits: z, targets: y, rows: [0, 1], counts: [true, false]) }
        }
        let metrics = collector.metrics()
        #expect(metrics.first { $0.name == "accuracy_1" }.map { ($0.value, $0.count) } ?? (0, 0) == (0.5, 2))
        let decoded = decoder.decode(logits[0..<6], tokens: 2)
        #expect(decoded.value == .classIndices([0, 1]))
        #expect(decoder.text(decoded.value) == "O B-X")
        #expect(decoded.activated.count == 4)
    }
}
