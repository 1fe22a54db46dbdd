/// Numbers written with at most a given number of decimals and no trailing zeros (`0.5`, `12`,
/// `-0.25`), for SVG coordinates and axis labels: shorter than Swift's shortest round-trip text
/// and free of binary noise such as `0.30000000000000004`.
enum DecimalText {
    /// `value` rounded to `decimals` places (0 to 17, clamped); Swift's own text when that
    /// would not fit in an `Int` (beyond 10¹⁵ units of the last place) or is not finite.
    static func text(_ value: Double, decimals: Int) -> String {
        let places = min(max(decimals, 0), 17)
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return "\(value)" }
        let units = Int(scaled)
        // No "-0": a value that rounds to zero is written without a sign.
        let sign = units < 0 ? "-" : ""
        let magnitude = abs(units), unit = Int(scale)
        let whole = sign + String(magnitude / unit)
        guard magnitude % unit != 0 else { return whole }
        let digits = String(magnitude % unit)
        var fraction = String(repeating: "0", count: places - digits.count) + digits
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return whole + "." + fraction
    }
}
