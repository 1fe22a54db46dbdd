import FlowSpec
import Foundation

/// Turns one sample's logits for a task into what a user reads: the activation (σ, softmax or
/// identity) and the decision in the label's own units — a yes/no at the task's threshold, a
/// class, a set of labels, or a number with the scale or standardisation undone.
public struct TaskDecoder: Sendable {
    public let output: TaskOutput
    /// Class (or label) names in index order; empty for the other types.
    public let names: [String]
    /// Decision thresholds on the activated score: one for a binary task, one per label for a
    /// multilabel task (0.5 unless `tune-thresholds` chose others).
    public let thresholds: [Float]
    /// Bounded regression: labels were divided by this for training.
    public let scale: Double
    /// Regression: labels were standardised with these.
    public let mean: Double, deviation: Double
    /// The logits are divided by this before the activation: the task's temperature from
    /// `calibration.yaml`, 1 when not calibrated.
    public let temperature: Float

    public init(output: TaskOutput, names: [String] = [], thresholds: [Float]? = nil, scale: Double = 1,
                mean: Double = 0, deviation: Double = 1, temperature: Float = 1) {
        self.output = output
        self.temperature = temperature
        self.names = names
        let count = output.type == .multilabel ? output.units : 1
        self.thresholds = thresholds?.count == count ? thresholds! : [Float](repeating: 0.5, count: count)
        self.scale = scale
        self.mean = mean
        self.deviation = deviation
    }

    /// Decodes the logits of one sample (`output.units` values; a token classification's
    /// `units` per position, of which the first `tokens` positions hold the text's tokens).
    public func decode(_ logits: ArraySlice<Float>, tokens: Int? = nil) -> DecodedOutput {
        if output.type == .tokenClassification || output.type == .maskedLanguageModel {
            return decodeTokens(logits, tokens: min(tokens ?? output.positions, output.positions))
        }
        let activated = activate(logits)
        switch output.type {
        case .binary:
            let yes = activated[0] >= thresholds[0]
            return DecodedOutput(activated: activated, value: .flag(yes), decision: yes ? 1 : 0)
        case .classification, .tokenClassification, .maskedLanguageModel:
            let top = Self.argmax(activated)
            return DecodedOutput(activated: activated, value: .classIndex(top), decision: Float(top))
        case .multilabel:
            return DecodedOutput(activated: activated, value: .labels(zip(activated, thresholds).map { $0 >= $1 }),
                                 decision: 0)
        case .boundedRegression:
            return DecodedOutput(activated: activated, value: .number(Double(activated[0]) * scale), decision: 0)
        case .regression:
            return DecodedOutput(activated: activated, value: .number(Double(activated[0]) * deviation + mean),
                                 decision: 0)
        }
    }

    /// A token classification's class per token, and each token's class probabilities
    /// (`tokens` × classes); nothing for a masked language model, whose output is its metrics'.
    private func decodeTokens(_ logits: ArraySlice<Float>, tokens: Int) -> DecodedOutput {
        guard output.type == .tokenClassification else { return DecodedOutput(activated: [], value: .classIndices([]), decision: 0) }
        let width = output.units
        var activated: [Float] = [], classes: [Int] = []
        for p in 0..<tokens {
            let start = logits.startIndex + p * width
            let probabilities = TaskPredictions.activate(.classification, Array(logits[start..<(start + width)]),
                                                         temperature: temperature)
            classes.append(Self.argmax(probabilities))
            activated += probabilities
        }
        return DecodedOutput(activated: activated, value: .classIndices(classes), decision: 0)
    }

    /// The activation of one sample's logits, at the task's temperature.
    public func activate(_ logits: ArraySlice<Float>) -> [Float] {
        TaskPredictions.activate(output.type, Array(logits), temperature: temperature)
    }

    /// The first index of the largest value: the class a tie decodes to.
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// The decision as `predictions.csv` writes it: `1`/`0`, a class name, label names joined
    /// by `|` (`none` for the empty set, as labels are written), or a number.
    public func text(_ value: DecodedValue) -> String {
        switch value {
        case .flag(let yes): return yes ? "1" : "0"
        case .classIndex(let index): return name(index)
        case .classIndices(let indices): return indices.map(name).joined(separator: " ")
        case .labels(let on):
            let chosen = on.indices.filter { on[$0] }.map(name)
            return chosen.isEmpty ? "none" : chosen.joined(separator: "|")
        case .number(let number): return "\(Float(number))"  // the precision the model computed in
        }
    }

    /// A target as the task's tensors hold it, back in the label's own units (for
    /// interpretation tables): the same spelling as `text` uses for predictions.
    public func labelText(_ targets: ArraySlice<Float>) -> String {
        let y = Array(targets)
        switch output.type {
        case .binary: return text(.flag(y[0] >= 0.5))
        case .classification: return text(.classIndex(Int(y[0])))
        case .tokenClassification: return text(.classIndices(y.filter { $0 >= 0 }.map { Int($0) }))
        case .maskedLanguageModel: return ""
        case .multilabel: return text(.labels(y.map { $0 >= 0.5 }))
        case .boundedRegression, .regression: return text(.number(labelNumber(y[0])))
        }
    }

    /// A regression target as the task's tensors hold it, back in the label's own units.
    public func labelNumber(_ target: Float) -> Double {
        output.type == .boundedRegression ? Double(target) * scale : Double(target) * deviation + mean
    }

    private func name(_ index: Int) -> String { index < names.count ? names[index] : "\(index)" }
}

/// A task's output for one sample, activated and decided.
public struct DecodedOutput: Equatable, Sendable {
    public var activated: [Float]
    public var value: DecodedValue
    /// What preconditions read: 1 or 0 for a binary task, the class index for a classification.
    public var decision: Float
}

/// A decision in the label's own terms.
public enum DecodedValue: Equatable, Sendable {
    case flag(Bool)
    case classIndex(Int)
    /// A token classification's class per token.
    case classIndices([Int])
    /// Per label, whether it is on.
    case labels([Bool])
    case number(Double)
}
