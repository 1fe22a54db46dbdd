import Foundation

/// Round tick values for a chart axis: steps of 1, 2 or 5 times a power of ten, as a reader
/// would mark an axis by hand.
struct AxisTicks {
    /// The range the axis shows.
    var lower: Double, upper: Double
    var step: Double
    var values: [Double]

    /// An axis for data between `lower` and `upper`, widened to whole steps so that both ends
    /// carry a tick. A single value gets an axis around it. With `integers` (epochs, counts) the
    /// step is at least 1, so no tick falls between two whole values.
    init(covering lower: Double, _ upper: Double, count: Int, integers: Bool) {
        // Beyond ±1e300 the span itself would overflow; such values are drawn at the edge.
        var low = max(min(lower, upper), -1e300), high = min(max(lower, upper), 1e300)
        if !(high - low > max(abs(low), abs(high)) * 1e-9) {
            let pad = integers || low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        var step = Self.niceStep(span: high - low, count: count)
        if integers { step = max(step, 1) }
        self.init(lower: (low / step).rounded(.down) * step, upper: (high / step).rounded(.up) * step, step: step)
    }

    /// An axis showing exactly `range` (0…1 for rates), with the round values inside it.
    init(within range: ClosedRange<Double>, count: Int) {
        self.init(lower: range.lowerBound, upper: range.upperBound,
                  step: Self.niceStep(span: range.upperBound - range.lowerBound, count: count))
    }

    private init(lower: Double, upper: Double, step: Double) {
        self.lower = lower
        self.upper = upper
        self.step = step
        values = []
        // Each tick is a whole multiple of the step, computed afresh rather than accumulated,
        // so rounding error does not build up along the axis.
        let first = (lower / step - 1e-9).rounded(.up)
        var k = 0.0
        while values.count <= 50 {
            let value = (first + k) * step
            guard value <= upper + step * 1e-9 else { break }
            values.append(abs(value) < step * 1e-9 ? 0 : value)
            k += 1
        }
    }

    /// A tick's text, with as many decimals as the step needs (0.2 → one, 0.05 → two).
    func label(_ value: Double) -> String {
        DecimalText.text(value, decimals: -Int((log10(step) + 1e-9).rounded(.down)))
    }

    /// The 1, 2 or 5 × 10ⁿ step nearest to `span / count` on a log scale (d3's rule: the
    /// cut-offs between 1, 2, 5 and 10 are their geometric means √2, √10 and √50).
    static func niceStep(span: Double, count: Int) -> Double {
        let raw = span / Double(max(count, 1))
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, log10(raw).rounded(.down))
        let residual = raw / magnitude
        let factor: Double = residual >= 50.squareRoot() ? 10 : residual >= 10.squareRoot() ? 5
            : residual >= 2.squareRoot() ? 2 : 1
        return factor * magnitude
    }
}
