import FlowSpec
import Foundation

/// Temperature scaling (Guo et al., 2017): the one T > 0 that minimises a task's mean negative
/// log-likelihood when its logits z are read as σ(z / T) (binary; multilabel, every label
/// sharing T) or softmax(z / T) (classification). T > 1 softens an over-confident model, T < 1
/// sharpens an under-confident one; decisions of a classification task and rankings of every
/// score are unchanged.
///
/// The mean NLL is convex in 1/T, so it is unimodal in log T, and a golden-section search over
/// log T finds its minimum without derivatives or step sizes to tune.
public enum TemperatureFit {
    /// The temperatures searched: beyond these the rows are (nearly) separable or the logits
    /// carry no signal, and a note says the fit reached the edge.
    public static let range: ClosedRange<Double> = 0.05...20
    /// The search stops when the bracket in log T is narrower than this (T to about 1e-7
    /// relative, finer than the float32 it is stored in needs).
    public static let tolerance = 1e-7

    /// A fitted temperature, or 1 with the reason none was fitted.
    public struct Result: Sendable, Equatable {
        public var temperature: Float
        /// Rows (label present, ground-truth precondition true) it was fitted on.
        public var rows: Int
        /// The mean negative log-likelihood at T = 1 and at `temperature` (NaN without rows).
        public var nllBefore: Double
        public var nllAfter: Double
        /// Why T stayed 1, or that the fit reached the edge of `range`.
        public var note: String?
    }

    /// Whether a task type is calibrated: the types whose activation is a probability of a
    /// label. Regressions (bounded ones too) are not.
    public static func applies(to type: TaskType) -> Bool {
        type == .binary || type == .multilabel || type == .classification
    }

    /// Fits T on `rows` rows: `logits` holds `width` values per row, `labels` one 0/1 per row
    /// (binary), one class index per row (classification) or `width` 0/1 values per row
    /// (multilabel).
    public static func fit(_ type: TaskType, logits: [Float], labels: [Float], width: Int) -> Result {
        let rows = width > 0 ? logits.count / width : 0
        let before = negativeLogLikelihood(type, logits: logits, labels: labels, width: width, temperature: 1)
        var result = Result(temperature: 1, rows: rows, nllBefore: before, nllAfter: before)
        guard rows > 0 else {
            result.note = "no rows with a label and a true precondition: T stays 1"
            return result
        }
        guard Set(labels).count > 1 else {
            // One label everywhere: the likelihood only improves as T moves to an end of the range.
            result.note = "every row has the same label: T stays 1"
            return result
        }
        func nll(_ logT: Double) -> Double {
            negativeLogLikelihood(type, logits: logits, labels: labels, width: width, temperature: exp(logT))
        }
        let golden = (sqrt(5.0) - 1) / 2
        var (a, b) = (log(range.lowerBound), log(range.upperBound))
        var c = b - golden * (b - a), d = a + golden * (b - a)
        var fc = nll(c), fd = nll(d)
        while b - a > tolerance {
            // NaN compares false: a diverged model's logits simply keep T = 1 below.
            if fc < fd {
                (b, d, fd) = (d, c, fc)
                c = b - golden * (b - a)
                fc = nll(c)
            } else {
                (a, c, fc) = (c, d, fd)
                d = a + golden * (b - a)
                fd = nll(d)
            }
        }
        let temperature = Float(exp((a + b) / 2))
        let after = negativeLogLikelihood(type, logits: logits, labels: labels, width: width, temperature: Double(temperature))
        // Never worse than leaving the model alone on the rows it was fitted on.
        guard after < before else {
            result.note = before.isFinite ? nil : "the logits are not finite: T stays 1"
            return result
        }
        result.temperature = temperature
        result.nllAfter = after
        if (a + b) / 2 <= log(range.lowerBound) + 1e-3 || (a + b) / 2 >= log(range.upperBound) - 1e-3 {
            result.note = String(format: "T reached the edge of %g…%g: the rows are nearly ", range.lowerBound, range.upperBound)
                + (temperature < 1 ? "separable" : "uninformative")
        }
        return result
    }

    /// The mean negative log-likelihood (natural log) of the labels under σ(z / T) or
    /// softmax(z / T), in double precision; NaN without rows. Multilabel: the mean over every
    /// label of every row, so that it reads per decision like a binary task's.
    public static func negativeLogLikelihood(_ type: TaskType, logits: [Float], labels: [Float], width: Int,
                                             temperature: Double) -> Double {
        guard width > 0, !logits.isEmpty else { return .nan }
        let inverse = 1 / temperature
        var total = 0.0
        switch type {
        case .classification, .tokenClassification:
            let rows = logits.count / width
            for r in 0..<rows {
                var top = -Double.infinity
                for k in 0..<width { top = max(top, Double(logits[r * width + k]) * inverse) }
                var sum = 0.0
                for k in 0..<width { sum += exp(Double(logits[r * width + k]) * inverse - top) }
                let label = Int(labels[r])
                let own = label >= 0 && label < width ? Double(logits[r * width + label]) * inverse : -Double.infinity
                total += top + log(sum) - own
            }
            return total / Double(rows)
        default:
            for (z, y) in zip(logits, labels) {
                // −log σ(x) for a positive, −log(1 − σ(x)) for a negative, without overflow.
                let x = Double(z) * inverse
                total += max(x, 0) - x * Double(y) + log1p(exp(-abs(x)))
            }
            return total / Double(logits.count)
        }
    }
}
