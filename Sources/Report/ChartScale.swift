import Foundation

/// How a chart places values along an axis: evenly, evenly by their logarithm (a learning rate
/// between 1e-4 and 3e-2), or as named categories at 0, 1, 2… (a choice of names).
public enum ChartScale: Sendable {
    case linear
    /// Positive values only; the others are not drawn.
    case log
    /// The value is the position in this list.
    case categories([String])
}

/// An axis fitted to values on a `ChartScale`: where each value goes (0 at one end, 1 at the
/// other) and the ticks to mark, with their labels.
struct ScaledAxis {
    let scale: ChartScale
    /// The ends, in the scale's units (the logarithm for `log`).
    private let lower: Double, upper: Double
    let ticks: [(position: Double, label: String)]

    /// About `count` ticks (every category has one) over the finite `values` (positive, for log).
    init(_ scale: ChartScale, values: [Double], count: Int) {
        self.scale = scale
        let units = values.compactMap { Self.unit(scale, $0) }
        switch scale {
        case .categories(let names):
            (lower, upper) = (-0.5, Double(max(names.count, 1)) - 0.5)
            ticks = names.enumerated().map { ((Double($0.offset) + 0.5) / Double(names.count), $0.element) }
        case .linear, .log:
            let isLog = { if case .log = scale { return true } else { return false } }()
            let low = units.min() ?? 0, high = units.max() ?? 1
            // Powers of ten on a log axis that spans two decades or more.
            let axis = AxisTicks(covering: low, high, count: count,
                                 integers: isLog ? high - low >= 2 : values.allSatisfy { $0 == $0.rounded() })
            (lower, upper) = (axis.lower, axis.upper)
            ticks = axis.values.map { value in
                let position = (value - axis.lower) / (axis.upper - axis.lower)
                return (position, isLog ? String(format: "%.2g", pow(10, value)) : axis.label(value))
            }
        }
    }

    /// Where `value` goes, 0 to 1; nil for a value the scale cannot place.
    func position(_ value: Double) -> Double? {
        guard let unit = Self.unit(scale, value), upper > lower else { return nil }
        return (unit - lower) / (upper - lower)
    }

    private static func unit(_ scale: ChartScale, _ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .linear: return value
        case .log: return value > 0 ? log10(value) : nil
        case .categories(let names): return value >= 0 && value < Double(names.count) ? value.rounded(.down) : nil
        }
    }
}
