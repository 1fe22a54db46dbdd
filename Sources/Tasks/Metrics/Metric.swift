/// One metric of one task on the rows it counts on: the name `metrics.csv` uses
/// (docs/run-directory.md; dnn_cool's where it has one), its value, and how many rows (or labels) it was computed on.
public struct Metric: Equatable, Sendable {
    public var name: String
    public var value: Double
    public var count: Int

    public init(_ name: String, _ value: Double, count: Int) {
        self.name = name
        self.value = value
        self.count = count
    }
}

/// Counts of a binary decision: what precision, recall and F1 are made of.
struct ConfusionCounts {
    var truePositives = 0, falsePositives = 0, trueNegatives = 0, falseNegatives = 0

    mutating func add(predicted: Bool, actual: Bool) {
        switch (predicted, actual) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, false): trueNegatives += 1
        case (false, true): falseNegatives += 1
        }
    }

    var total: Int { truePositives + falsePositives + trueNegatives + falseNegatives }

    /// TP / (TP + FP); 0 when nothing was predicted positive (scikit-learn's zero_division=0).
    var precision: Double {
        truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
    }

    /// TP / (TP + FN); 0 when nothing is positive.
    var recall: Double {
        truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
    }

    /// The harmonic mean of precision and recall; 0 when both are 0.
    var f1: Double {
        let (p, r) = (precision, recall)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    var accuracy: Double {
        total == 0 ? 0 : Double(truePositives + trueNegatives) / Double(total)
    }
}
