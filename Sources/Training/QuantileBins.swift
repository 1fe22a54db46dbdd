/// The bin edges of a piecewise-linear encoding, learnt from a training split's values of one
/// column (Gorishniy et al., 2022): the quantiles at 0, 1/T, …, 1 of its present values, with
/// repeated edges dropped, so a column with ties or few distinct values gets fewer bins than
/// asked for, and a constant or empty column none (its encoding is all zeros).
public enum QuantileBins {
    /// Edges for `bins` bins from `values` as the network sees them (normalised); NaN marks a
    /// missing value and is left out. Quantiles interpolate linearly between order statistics
    /// (NumPy's and PyTorch's default): q_t = s[⌊p⌋] + (p − ⌊p⌋)(s[⌊p⌋ + 1] − s[⌊p⌋]),
    /// p = t (n − 1) / T.
    public static func edges(of values: [Float], bins: Int) -> [Float] {
        let sorted = sortedPresent(values)
        return edges(count: sorted.count, bins: bins) { sorted[$0] }
    }

    /// The edges from the `count` present values' order statistics, `orderStatistic(k)` being
    /// the k-th smallest (0-based): asked only for those `orderStatisticsNeeded` lists.
    static func edges(count: Int, bins: Int, orderStatistic: (Int) -> Float) -> [Float] {
        guard count > 0, bins > 0, orderStatistic(0) < orderStatistic(count - 1) else { return [] }
        var edges: [Float] = []
        edges.reserveCapacity(bins + 1)
        for t in 0...bins {
            let (low, high, fraction) = position(t, count: count, bins: bins)
            let q = Float(Double(orderStatistic(low)) + fraction * (Double(orderStatistic(high)) - Double(orderStatistic(low))))
            // Edges must increase strictly: a bin of zero width has no slope.
            if let previous = edges.last, q <= previous { continue }
            edges.append(q)
        }
        return edges
    }

    /// The order statistics (0-based) the edges of `bins` bins of `count` values are made of.
    static func orderStatisticsNeeded(count: Int, bins: Int) -> [Int] {
        guard count > 0, bins > 0 else { return [] }
        let ends = (0...bins).flatMap { t in
            let (low, high, _) = position(t, count: count, bins: bins)
            return [low, high]
        }
        return Array(Set(ends + [0, count - 1])).sorted()
    }

    /// Where quantile t/T lies among the sorted values: between the `low`-th and the
    /// `high`-th, `fraction` of the way.
    private static func position(_ t: Int, count: Int, bins: Int) -> (low: Int, high: Int, fraction: Double) {
        let p = Double(t) * Double(count - 1) / Double(bins)
        let low = Int(p)
        return (low, min(low + 1, count - 1), p - Double(low))
    }

    /// The values that are not NaN in increasing order, as `filter { !$0.isNaN }.sorted()` gives
    /// them (a stable sort, so −0 and +0 keep their order), by a radix sort on the bits: four
    /// passes of one byte each, linear in the values where a comparison sort took 20 ms per
    /// column of 240,000 (a tenth of reading the orders flow's data).
    static func sortedPresent(_ values: [Float]) -> [Float] {
        // Keys that order as the floats do: the sign bit flipped for positives, every bit for
        // negatives; −0 takes +0's key (x + 0 is +0), as they compare equal.
        var keys = values.compactMap { $0.isNaN ? nil : Self.key($0 + 0) }
        var buffer = [UInt32](repeating: 0, count: keys.count)
        var counts = [Int](repeating: 0, count: 4 * 256)
        counts.withUnsafeMutableBufferPointer { counts in
            for pass in 0..<4 {
                keys.withUnsafeMutableBufferPointer { keys in
                    buffer.withUnsafeMutableBufferPointer { buffer in
                        if pass == 0 {
                            for key in keys {
                                for byte in 0..<4 { counts[byte * 256 + Int((key >> (8 * byte)) & 255)] += 1 }
                            }
                        }
                        let bucketStarts = counts.baseAddress! + pass * 256
                        var start = 0
                        for byte in 0..<256 { (bucketStarts[byte], start) = (start, start + bucketStarts[byte]) }
                        for key in keys {
                            let bucket = Int((key >> (8 * pass)) & 255)
                            buffer[bucketStarts[bucket]] = key
                            bucketStarts[bucket] += 1
                        }
                    }
                }
                swap(&keys, &buffer)
            }
        }
        var sorted = keys.map(Self.value)
        // The zeros came back as +0: give them their signs in the order they came in.
        if let firstZero = sorted.firstIndex(of: 0) {
            var next = firstZero
            for value in values where value == 0 {
                sorted[next] = value
                next += 1
            }
        }
        return sorted
    }

    /// A key that orders as the floats do (the sign bit flipped for positives, every bit for negatives).
    static func key(_ value: Float) -> UInt32 {
        let bits = value.bitPattern
        return bits & 0x8000_0000 == 0 ? bits | 0x8000_0000 : ~bits
    }

    /// The float of a `key`.
    static func value(_ key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
    }
}
