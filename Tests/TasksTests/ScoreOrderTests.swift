import Testing
@testable import Tasks

struct ScoreOrderTests {
    /// The radix order equals a comparison sort: ascending, ties in index order, NaN last,
    /// negatives, zeros of both signs and infinities in their places.
    @Test func ordersLikeAComparisonSort() {
        var random = SystemRandomNumberGenerator()
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1e-40, -1e-40, .greatestFiniteMagnitude, 0.5]
        let scores = (0..<5000).map { i -> Float in
            i % 10 == 0 ? specials[i / 10 % specials.count] : Float(Int.random(in: -300...300, using: &random)) / 7
        }
        let expected = scores.indices.sorted { a, b in
            let x = scores[a], y = scores[b]
            if x.isNaN || y.isNaN { return !x.isNaN && y.isNaN || (x.isNaN && y.isNaN && a < b) }
            // -0 ranks just below +0 (their bits differ); equal scores keep index order.
            if x == y, x == 0, x.sign != y.sign { return x.sign == .minus }
            return x < y || (x == y && a < b)
        }
        #expect(ScoreOrder.ascending(scores) == expected)
    }
}
