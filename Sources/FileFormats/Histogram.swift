/// A set of values summarised as TensorBoard's `HistogramProto` holds it: the count, the
/// extremes, the sum and the sum of squares, and equal-width buckets from the smallest value to
/// the largest.
public struct Histogram: Sendable, Equatable {
    public var minimum: Double
    public var maximum: Double
    public var count: Double
    public var sum: Double
    public var sumOfSquares: Double
    /// Each bucket's right edge; the first bucket starts at `minimum`, the last ends at `maximum`.
    public var limits: [Double]
    /// How many values fall in each bucket (a value on an edge goes to the bucket on its right,
    /// the largest value to the last bucket).
    public var counts: [Double]

    public init(minimum: Double, maximum: Double, count: Double, sum: Double, sumOfSquares: Double,
                limits: [Double], counts: [Double]) {
        (self.minimum, self.maximum, self.count, self.sum, self.sumOfSquares) = (minimum, maximum, count, sum, sumOfSquares)
        (self.limits, self.counts) = (limits, counts)
    }

    /// The finite ones of `values` in `bucketCount` buckets (one when they are all equal); no
    /// bucket when there is no finite value.
    public init(_ values: UnsafeBufferPointer<Float>, bucketCount: Int = 30) {
        var minimum = Double.infinity, maximum = -Double.infinity
        var count = 0.0, sum = 0.0, squares = 0.0
        for value in values where value.isFinite {
            let v = Double(value)
            minimum = Swift.min(minimum, v)
            maximum = Swift.max(maximum, v)
            count += 1
            sum += v
            squares += v * v
        }
        guard count > 0 else {
            self.init(minimum: 0, maximum: 0, count: 0, sum: 0, sumOfSquares: 0, limits: [], counts: [])
            return
        }
        let buckets = maximum > minimum ? Swift.max(bucketCount, 1) : 1
        let width = (maximum - minimum) / Double(buckets)
        var counts = [Double](repeating: 0, count: buckets)
        for value in values where value.isFinite {
            let index = width > 0 ? Int((Double(value) - minimum) / width) : 0
            counts[Swift.min(index, buckets - 1)] += 1
        }
        let limits = (0..<buckets).map { $0 == buckets - 1 ? maximum : minimum + width * Double($0 + 1) }
        self.init(minimum: minimum, maximum: maximum, count: count, sum: sum, sumOfSquares: squares,
                  limits: limits, counts: counts)
    }
}
