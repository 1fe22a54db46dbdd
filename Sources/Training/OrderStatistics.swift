import ProcessGroups

/// The k-th smallest of numbers held in parts by the processes of a group, found exactly
/// without gathering them: what the quantile bins of a piecewise-linear encoding need
/// (`QuantileBins`), whatever the number of rows. Each process sorts its own part; then a
/// bisection over the floats' ordered bit patterns (`QuantileBins.key`) counts, in each of 32
/// rounds, every process's numbers at or below the middle of each query's range (a binary
/// search in its sorted part) and sums the counts in one collective call: after 32 halvings of
/// the 2³² patterns, each range is the one pattern of the k-th smallest number. −0 and +0 are
/// one pattern and come back as +0, which no bin edge tells apart (`QuantileBins.edges`).
enum OrderStatistics {
    /// For each query, the `rank`-th smallest (0-based) of column `column` over every process,
    /// where `sorted` holds this process's numbers of each column in increasing order, NaN left
    /// out (`QuantileBins.sortedPresent`). Every process passes the same queries.
    static func select(_ queries: [(column: Int, rank: Int)], sorted: [[Float]],
                       across processes: any ProcessGroup) -> [Float] {
        let keys = sorted.map { $0.map { QuantileBins.key($0 + 0) } }
        var low = [UInt64](repeating: 0, count: queries.count)
        var high = [UInt64](repeating: UInt64(UInt32.max), count: queries.count)
        var counts = [Int](repeating: 0, count: queries.count)
        for _ in 0..<32 {
            for (q, query) in queries.enumerated() {
                counts[q] = atOrBelow(UInt32((low[q] + high[q]) / 2), in: keys[query.column])
            }
            processes.allreduceSum(&counts)
            for (q, query) in queries.enumerated() {
                let middle = (low[q] + high[q]) / 2
                if counts[q] > query.rank { high[q] = middle } else { low[q] = middle + 1 }
            }
        }
        return low.map { QuantileBins.value(UInt32($0)) }
    }

    /// How many of `keys` (in increasing order) are at most `key`.
    private static func atOrBelow(_ key: UInt32, in keys: [UInt32]) -> Int {
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] <= key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
