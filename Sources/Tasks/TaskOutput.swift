import Engine
import FlowSpec

/// What a task type puts at the end of its head and what it is trained against: the width of
/// its output layer, the shape of its targets and mask per sample, and its fused loss.
public struct TaskOutput: Sendable {
    public let type: TaskType
    /// Classes (classification, token classification), labels (multilabel), or the vocabulary
    /// (masked language model); 1 otherwise.
    public let classCount: Int
    /// Positions per sample: the sequence length for token classification, else 1.
    public let positions: Int

    public init(type: TaskType, classCount: Int, positions: Int = 1) {
        self.type = type
        self.classCount = classCount
        self.positions = positions
    }

    /// Output-layer units per position; for a masked language model, what its fused output
    /// layer and loss leave per position: (1 if the top id is the original, else 0; the
    /// cross-entropy), or (−1, 0) where no token was masked.
    public var units: Int {
        switch type {
        case .binary, .boundedRegression, .regression: 1
        case .classification, .multilabel, .tokenClassification: classCount
        case .maskedLanguageModel: 2
        }
    }

    /// Target values per sample: a class index per row or position (−1 at a position with no
    /// labelled token; a masked language model's original id at a masked position, −1
    /// elsewhere), one 0/1 per label, or one number (binary 0/1, bounded regression already
    /// divided by its scale, regression standardised).
    public var targetShape: [Int] {
        switch type {
        case .binary, .classification, .boundedRegression, .regression: [1]
        case .multilabel: [classCount]
        case .tokenClassification, .maskedLanguageModel: [positions]
        }
    }

    /// The mask has one entry per target value: a row, a label, or a position.
    public var maskShape: [Int] { targetShape }

    /// Adds the task's fused, masked loss over `logits`.
    public func addLoss(to builder: PlanBuilder, logits: Tensor, targets: Tensor, mask: Tensor,
                        spec: TaskSpec) -> any MaskedLoss {
        let weight = Float(spec.weight)
        switch type {
        case .binary, .multilabel:
            return builder.binaryCrossEntropy(logits: logits, targets: targets, mask: mask, weight: weight)
        case .classification, .tokenClassification:
            return builder.softmaxCrossEntropy(logits: logits, targets: targets, mask: mask, weight: weight)
        case .maskedLanguageModel:
            preconditionFailure("a masked language model's output layer and loss are one op (maskedTokenPrediction)")
        case .boundedRegression:
            return builder.boundedRegressionLoss(logits: logits, targets: targets, mask: mask,
                                                 distance: spec.loss == .l1 ? .absolute : .squared, weight: weight)
        case .regression:
            let distance: RegressionDistance = switch spec.loss ?? .mse {
            case .mse: .squared
            case .l1: .absolute
            case .huber: .huber(delta: 1)
            }
            return builder.regressionLoss(logits: logits, targets: targets, mask: mask, distance: distance,
                                          weight: weight)
        }
    }
}
