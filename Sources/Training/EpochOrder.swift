import Engine
import FlowSpec
import ProcessGroups

/// The order each epoch draws the training rows in, and this process's rows of each batch.
/// The order is over the whole training split and the same on every process: a shuffle (plain
/// or stratified by position), or a balanced draw, from a generator seeded by the run's seed
/// and the epoch alone. With several processes each holding a contiguous part of the split
/// (`mpirun`), each trains the rows of every batch that it holds, so that the parts of a batch
/// differ in size (least with `stratified`) and may be empty; the masked losses divide by the
/// rows of the whole batch (`ProcessGroupReduction`), so the step is the one a single process
/// takes on the whole batch.
struct EpochOrder {
    private let sampling: Sampling
    private let seed: Int
    /// Rows of the whole split, and the place of this process's rows in it.
    private let total: Int
    private let mine: Range<Int>
    /// Balanced sampling only: per task, whether it counts on each row of the whole split.
    private let counts: [[Bool]]

    /// Every process builds it at the same point: balanced sampling gathers every process's
    /// counts.
    init(_ split: EncodedSplit, sampling: Sampling, seed: Int, processes: any ProcessGroup) {
        (self.sampling, self.seed, total) = (sampling, seed, split.totalRows)
        mine = split.firstRow..<(split.firstRow + split.rows)
        guard sampling == .balanced else {
            counts = []
            return
        }
        guard processes.size > 1 else {
            counts = split.counts
            return
        }
        // Each row's pattern as a byte per task, every process's rows in rank order.
        let tasks = split.counts.count
        var mine = [UInt8](repeating: 0, count: split.rows * tasks)
        for (t, counted) in split.counts.enumerated() {
            for (row, counts) in counted.enumerated() where counts { mine[row * tasks + t] = 1 }
        }
        let patterns = processes.allgather(bytes: mine).flatMap { $0 }
        counts = (0..<tasks).map { t in stride(from: t, to: patterns.count, by: tasks).map { patterns[$0] != 0 } }
    }

    /// The whole split's rows in the order epoch `epoch` draws them, in batches of `size`.
    func order(epoch: Int, size: Int) -> [Int] {
        var random = Random(seed: (UInt64(bitPattern: Int64(seed)) &+ 0x5EED) ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        switch sampling {
        case .shuffle:
            var order = Array(0..<total)
            Self.shuffle(&order[...], &random)
            return order
        case .stratified:
            return Self.stratified(rows: total, size: size, random: &random)
        case .balanced:
            return BalancedSampler.draw(counts: counts, rows: total, count: total, random: &random)
        }
    }

    /// Fisher–Yates.
    private static func shuffle(_ rows: inout ArraySlice<Int>, _ random: inout Random) {
        let start = rows.startIndex
        for i in stride(from: rows.count - 1, to: 0, by: -1) {
            rows.swapAt(start + i, start + Int(random.next() % UInt64(i + 1)))
        }
    }

    /// `rows` cut into `size` stretches of ⌊rows/size⌋ or one more rows, each shuffled; batch b
    /// takes the b-th row of every stretch, in stretch order, for as many full batches as the
    /// split holds; the stretches' last rows, one at most from each, come after them (the
    /// partial batch no epoch trains). A process holding a contiguous part of the split holds
    /// the rows of the stretches inside it, so its part of each batch differs from `size × its
    /// share` only by the two stretches its ends cut: by less than two rows.
    static func stratified(rows: Int, size: Int, random: inout Random) -> [Int] {
        let size = min(max(size, 1), max(rows, 1))
        let stretches = (0...size).map { $0 * rows / size }
        var shuffled = Array(0..<rows)
        for s in 0..<size { shuffle(&shuffled[stretches[s]..<stretches[s + 1]], &random) }
        let steps = rows / size  // the shortest stretch's rows
        var order: [Int] = []
        order.reserveCapacity(rows)
        for b in 0..<steps {
            for s in 0..<size { order.append(shuffled[stretches[s] + b]) }
        }
        for s in 0..<size where stretches[s] + steps < stretches[s + 1] { order.append(shuffled[stretches[s] + steps]) }
        return order
    }

    /// Epoch `epoch`'s first `steps` batches of `size` rows: each batch of the whole order, and
    /// this process's rows of it (indices into its part of the split, in the order drawn).
    func batches(epoch: Int, size: Int, steps: Int) -> EpochBatches {
        let order = order(epoch: epoch, size: size)
        var rows: [Int] = [], starts = [0]
        rows.reserveCapacity(min(order.count, mine.count * 2 + size))
        for s in 0..<steps {
            for row in order[(s * size)..<min((s + 1) * size, order.count)] where mine.contains(row) {
                rows.append(row - mine.lowerBound)
            }
            starts.append(rows.count)
        }
        return EpochBatches(size: size, total: order.count, rows: rows, starts: starts)
    }
}

/// An epoch's batches as `EpochOrder.batches` draws them; reading one allocates nothing.
struct EpochBatches {
    private let size: Int, total: Int
    private let rows: [Int], starts: [Int]

    fileprivate init(size: Int, total: Int, rows: [Int], starts: [Int]) {
        (self.size, self.total, self.rows, self.starts) = (size, total, rows, starts)
    }

    /// Batch `step`'s rows over every process, and this process's rows of it.
    func batch(_ step: Int) -> (rows: Int, mine: ArraySlice<Int>) {
        (min((step + 1) * size, total) - step * size, rows[starts[step]..<starts[step + 1]])
    }
}
