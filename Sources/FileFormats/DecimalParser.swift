/// Decimal numbers from bytes, without making a String: optional sign, digits, optional
/// fraction, optional exponent, surrounding spaces allowed; correctly rounded.
public enum DecimalParser {
    /// The number `bytes` spell, or nil when they spell none (or a non-finite one).
    @inlinable
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let base = bytes.baseAddress else { return nil }
        var i = 0, end = bytes.count
        while i < end, base[i] == 0x20 { i += 1 }
        while end > i, base[end - 1] == 0x20 { end -= 1 }
        guard i < end else { return nil }
        let start = i
        let negative = base[i] == 0x2D
        if negative || base[i] == 0x2B { i += 1 }
        // Every digit goes into the mantissa; more than 19 of them (rare) take the slow path.
        var mantissa: UInt64 = 0
        let integerStart = i
        while i < end {
            let digit = base[i] &- 0x30
            guard digit < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            i += 1
        }
        var digits = i - integerStart, exponent = 0
        if i < end, base[i] == 0x2E {
            i += 1
            let fractionStart = i
            while i < end {
                let digit = base[i] &- 0x30
                guard digit < 10 else { break }
                mantissa = mantissa &* 10 &+ UInt64(digit)
                i += 1
            }
            digits += i - fractionStart
            exponent = fractionStart - i
        }
        guard digits > 0 else { return nil }
        if i < end, base[i] == 0x65 || base[i] == 0x45 {
            i += 1
            var exponentNegative = false
            if i < end, base[i] == 0x2D || base[i] == 0x2B {
                exponentNegative = base[i] == 0x2D
                i += 1
            }
            var value = 0, exponentDigits = 0
            while i < end {
                let digit = base[i] &- 0x30
                guard digit < 10 else { break }
                value = min(value * 10 + Int(digit), 100_000)
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -value : value
        }
        guard i == end else { return nil }
        guard digits <= 19, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else {
            // Rare long or extreme numbers: the standard library's correctly rounded parser.
            guard let value = Double(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self))
            else { return nil }
            return value.isFinite ? value : nil
        }
        // Both operands exact (10^22 is the largest power of ten a Double holds exactly), one
        // correctly rounded operation: the correctly rounded value.
        var power = 1.0
        for _ in 0..<abs(exponent) { power *= 10 }
        let magnitude = exponent < 0 ? Double(mantissa) / power : Double(mantissa) * power
        return negative ? -magnitude : magnitude
    }
}
