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
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard let first = sorted.first, let last = sorted.last, first < last, bins > 0 else { return [] }
        var edges: [Float] = []
        edges.reserveCapacity(bins + 1)
        for t in 0...bins {
            let p = Double(t) * Double(sorted.count - 1) / Double(bins)
            let low = Int(p), fraction = p - Double(low)
            let high = min(low + 1, sorted.count - 1)
            let q = Float(Double(sorted[low]) + fraction * (Double(sorted[high]) - Double(sorted[low])))
            // Edges must increase strictly: a bin of zero width has no slope.
            if let previous = edges.last, q <= previous { continue }
            edges.append(q)
        }
        return edges
    }
}
