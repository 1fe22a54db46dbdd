import FlowSpec
import Foundation

/// Every trial's values, a function of the search's settings and seed alone: random draws
/// (`random`, `asha`), or the combinations of the choices in order (`grid`).
///
/// Trial n's draws come from a generator seeded with the seed and n, so that the first trials
/// of a longer search are those of a shorter one with the same seed. A drawn number keeps four
/// significant digits (0.002347, not 0.0023468157…): the value trained is the value shown.
public enum TrialSampler {
    /// The values of trials 0..<count, one per parameter in the flow's order.
    public static func trials(_ search: SearchSettings, count: Int, seed: Int) -> [[TrialValue]] {
        switch search.algorithm {
        case .grid: grid(search.parameters, count: count)
        case .random, .asha: (0..<count).map { draw(search.parameters, trial: $0, seed: seed) }
        }
    }

    /// How many trials a grid has: the product of each parameter's number of values.
    public static func combinations(_ parameters: [SearchSettings.Parameter]) -> Int {
        parameters.reduce(1) { product, parameter in
            let values = switch parameter.domain {
            case .choice(let values): values.count
            case let .integer(low, high): high - low + 1
            case .uniform, .logUniform: 1
            }
            return product.multipliedReportingOverflow(by: values).partialValue
        }
    }

    /// The first `count` combinations, the first parameter changing slowest (nested loops in the
    /// order the parameters are written).
    static func grid(_ parameters: [SearchSettings.Parameter], count: Int) -> [[TrialValue]] {
        let sizes = parameters.map { parameter -> Int in
            switch parameter.domain {
            case .choice(let values): values.count
            case let .integer(low, high): high - low + 1
            case .uniform, .logUniform: 1
            }
        }
        return (0..<count).map { trial in
            var rest = trial
            var positions = [Int](repeating: 0, count: sizes.count)
            for i in sizes.indices.reversed() {
                positions[i] = rest % sizes[i]
                rest /= sizes[i]
            }
            return zip(parameters, positions).map { parameter, position in
                switch parameter.domain {
                case .choice(let values): TrialValue(choice: position, of: values)
                case let .integer(low, _): TrialValue(number: Double(low + position), at: parameter.location)
                case let .uniform(low, _), let .logUniform(low, _): TrialValue(number: low, at: parameter.location)
                }
            }
        }
    }

    static func draw(_ parameters: [SearchSettings.Parameter], trial: Int, seed: Int) -> [TrialValue] {
        var generator = SplitMix64(seed: UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(trial))
        return parameters.map { parameter in
            let u = generator.nextUnit()
            switch parameter.domain {
            case .choice(let values):
                return TrialValue(choice: min(Int(u * Double(values.count)), values.count - 1), of: values)
            case let .integer(low, high):
                return TrialValue(number: Double(low + min(Int(u * Double(high - low + 1)), high - low)), at: parameter.location)
            case let .uniform(low, high):
                return TrialValue(number: significant(low + u * (high - low)), at: parameter.location)
            case let .logUniform(low, high):
                return TrialValue(number: significant(exp(log(low) + u * (log(high) - log(low)))), at: parameter.location)
            }
        }
    }

    /// `value` to four significant digits.
    static func significant(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        let scale = pow(10, 3 - floor(log10(abs(value))))
        return (value * scale).rounded() / scale
    }
}

/// Vigna's SplitMix64: a small generator whose streams from nearby seeds are unrelated.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
