/// The order of a task's scores, lowest first, in linear time: what the ROC AUC and the
/// threshold sweep walk along. Sorting 240,000 training scores by comparisons every epoch cost
/// more than the rest of the metrics together.
enum ScoreOrder {
    /// Indices of `scores` from the lowest score to the highest; NaN ranks above every number and
    /// equal scores keep their index order. A least-significant-digit radix sort of the scores'
    /// bits, 11 at a time, each key carrying its index in its low half.
    static func ascending(_ scores: [Float]) -> [Int] {
        let n = scores.count
        var items = scores.enumerated().map { UInt64(orderedBits($1)) << 32 | UInt64($0) }
        var spare = [UInt64](repeating: 0, count: n)
        for shift in stride(from: 32, to: 64, by: 11) {
            var counts = [Int](repeating: 0, count: 2049)
            for item in items { counts[Int((item >> UInt64(shift)) & 2047) + 1] += 1 }
            for b in 1...2048 { counts[b] += counts[b - 1] }
            for item in items {
                let bucket = Int((item >> UInt64(shift)) & 2047)
                spare[counts[bucket]] = item
                counts[bucket] += 1
            }
            swap(&items, &spare)
        }
        return items.map { Int($0 & 0xFFFF_FFFF) }
    }

    /// The score's bits as an unsigned number in the order of the scores: negatives flipped,
    /// positives above them, every NaN one value above infinity.
    static func orderedBits(_ score: Float) -> UInt32 {
        let bits = score.isNaN ? Float.nan.bitPattern : score.bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
