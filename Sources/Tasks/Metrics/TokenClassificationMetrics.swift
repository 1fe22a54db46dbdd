/// Metrics of a token classification, over the labelled tokens of the rows it counts on:
/// the token-level ones of a classification (`accuracy_1` is token accuracy; `f1_score`,
/// `precision`, `recall` macro-averaged over the classes), and, when the classes follow the
/// B-/I- scheme, `entity_f1`, `entity_precision` and `entity_recall`: entities are spans
/// read as seqeval (and conlleval) read them, and one counts as found only when the predicted
/// span has exactly its start, end and type (micro-averaged over all entities).
public enum TokenClassificationMetrics {
    /// `probabilities` holds `classes` values per token, `labels` each token's class;
    /// `rowStarts` is true at each row's first token. `names` are the classes' names.
    public static func compute(probabilities: [Float], classes: Int, labels: [Int], rowStarts: [Bool],
                               names: [String]) -> [Metric] {
        var metrics = ClassificationMetrics.compute(probabilities: probabilities, classes: classes, labels: labels)
        guard !labels.isEmpty, EntitySpans.applies(to: names), names.count == classes else { return metrics }
        var predicted: [Int] = []
        predicted.reserveCapacity(labels.count)
        for t in labels.indices {
            var top = t * classes
            for i in (t * classes)..<((t + 1) * classes) where probabilities[i] > probabilities[top] { top = i }
            predicted.append(top - t * classes)
        }
        var truth = Set<EntitySpans.Span>(), found = Set<EntitySpans.Span>()
        var start = 0
        while start < labels.count {
            var end = start + 1
            while end < labels.count, !rowStarts[end] { end += 1 }
            truth.formUnion(EntitySpans.spans(labels[start..<end].map { names[$0] }, offset: start))
            found.formUnion(EntitySpans.spans(predicted[start..<end].map { names[$0] }, offset: start))
            start = end
        }
        let right = truth.intersection(found).count
        let precision = found.isEmpty ? 0 : Double(right) / Double(found.count)
        let recall = truth.isEmpty ? 0 : Double(right) / Double(truth.count)
        let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        metrics += [Metric("entity_f1", f1, count: truth.count), Metric("entity_precision", precision, count: found.count),
                    Metric("entity_recall", recall, count: truth.count)]
        return metrics
    }
}

/// Entities of a sequence of B-/I-/O tags, as conlleval and seqeval's default mode read them:
/// an entity of type X starts at `B-X`, or at `I-X` after a tag that is not of type X (an
/// `I-` without its `B-` still starts one), and goes on over the `I-X` that follow.
public enum EntitySpans {
    /// An entity: its first and one-past-last token, and its type.
    public struct Span: Hashable, Sendable {
        public var start: Int, end: Int
        public var type: String
    }

    /// Whether classes are B-/I- tags: each is `O`, `B-X` or `I-X`, and some is a `B-`.
    public static func applies(to names: [String]) -> Bool {
        names.contains { $0.hasPrefix("B-") } && names.allSatisfy { $0 == "O" || $0.hasPrefix("B-") || $0.hasPrefix("I-") }
    }

    /// The entities of `tags`, their positions shifted by `offset`.
    public static func spans(_ tags: [String], offset: Int = 0) -> [Span] {
        var spans: [Span] = []
        var open: (start: Int, type: String)?
        for (t, tag) in tags.enumerated() {
            let type = tag.count > 2 ? String(tag.dropFirst(2)) : ""
            let continues = tag.hasPrefix("I-") && open?.type == type
            if !continues, let entity = open {
                spans.append(Span(start: offset + entity.start, end: offset + t, type: entity.type))
                open = nil
            }
            if tag.hasPrefix("B-") || (tag.hasPrefix("I-") && !continues) { open = (t, type) }
        }
        if let entity = open { spans.append(Span(start: offset + entity.start, end: offset + tags.count, type: entity.type)) }
        return spans
    }
}
