import Dispatch
import ProcessGroups

/// A column of numbers in memory: `count` of them in `numbers`, from `first` on, `stride`
/// apart; NaN marks a cell without one.
struct NumberColumn: @unchecked Sendable {
    let numbers: UnsafeBufferPointer<Double>
    let first: Int
    let stride: Int
    let count: Int

    subscript(row: Int) -> Double { numbers[first + row * stride] }
}

/// What the statistics of a numeric input or a regression target start from: a column's count
/// of numbers, their sum and extremes, and the sum of their squared distances from the mean.
struct ColumnSummary: Equatable {
    var count = 0
    var sum = 0.0
    var low = Double.infinity, high = -Double.infinity
    var squares = 0.0

    /// The mean, 0 without numbers.
    var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Summaries of columns whose rows the processes of `processes` hold in parts, rank order
    /// being row order, equal bit for bit to one process's over all the rows: a sum is
    /// continued from process to process in rank order (`ProcessGroup.inRankOrder`), so the
    /// same numbers are added in the same order, and the extremes are folded in rank order as
    /// one process folds them row by row (ties keep the first low and the last high, as `min`
    /// and `max` do). The price is that the processes sum one after the other: a few
    /// milliseconds a million numbers.
    static func summaries(of columns: [NumberColumn], across processes: any ProcessGroup) -> [ColumnSummary] {
        var summaries = [ColumnSummary](repeating: ColumnSummary(), count: columns.count)
        var sums = [Double](repeating: 0, count: columns.count)
        processes.inRankOrder(&sums) { sums in
            let started = sums
            summaries = parallelMap(columns.indices) { c in
                let column = columns[c]
                var summary = ColumnSummary(sum: started[c])
                for r in 0..<column.count where !column[r].isNaN {
                    let value = column[r]
                    summary.sum += value
                    summary.count += 1
                    summary.low = min(summary.low, value)
                    summary.high = max(summary.high, value)
                }
                return summary
            }
            sums = summaries.map(\.sum)
        }
        if processes.size > 1 {
            let parts = processes.allgatherByRank(summaries.flatMap { [Double($0.count), $0.low, $0.high] })
            for c in columns.indices {
                var whole = ColumnSummary(sum: sums[c])
                for part in parts {
                    whole.count += Int(part[3 * c])
                    whole.low = min(whole.low, part[3 * c + 1])
                    whole.high = max(whole.high, part[3 * c + 2])
                }
                summaries[c] = whole
            }
        }
        var squares = [Double](repeating: 0, count: columns.count)
        let means = summaries.map(\.mean)
        processes.inRankOrder(&squares) { squares in
            let started = squares
            squares = parallelMap(columns.indices) { c in
                let column = columns[c], mean = means[c]
                var sum = started[c]
                for r in 0..<column.count where !column[r].isNaN {
                    let value = column[r]
                    sum += (value - mean) * (value - mean)
                }
                return sum
            }
        }
        for c in columns.indices { summaries[c].squares = squares[c] }
        return summaries
    }

    /// `transform` of each index, one per core.
    private static func parallelMap<Result>(_ indices: Range<Int>, _ transform: @Sendable (Int) -> Result) -> [Result] {
        let results = ParallelJobs<Result>(count: indices.count)
        DispatchQueue.concurrentPerform(iterations: indices.count) { i in results.run(i) { transform(indices.lowerBound + i) } }
        return (try? results.results()) ?? []
    }
}
