// The piecewise-linear encoding of numeric columns through a dense map per column, computed
// without the encoding. Column j's slots for x in bin k are 1 before k, r = (x − e_k) / w_k at
// k and 0 after (PiecewiseLinearBins), so its map is a prefix sum of weight columns:
//     out[n, j, d] = P[j, k, d] + r · W[j, d, k],   P[j, k, d] = b[j, d] + Σ_{t<k} W[j, d, t].
// A row costs 2·D per column instead of the 2·T·D of encoding, then multiplying (T = 48 bins
// by default). The gradients turn around the same way, with sums over the rows in each bin:
//     dW[j, d, t] += Σ_{n: kₙ = t} rₙ · dout[n, j, d] + Σ_{n: kₙ > t} dout[n, j, d]
//     dx[n, j]    += Σ_d dout[n, j, d] · W[j, d, kₙ] / w_k   (inside the slot's clamps, else 0)
// The reference is the encoding (PiecewiseLinearBins.encode) followed by the dense map; the
// tests compare both.
//
// Input (N, C + I), output (N, C·D + I): trailing indicator columns pass through.

/// Rows split between threads for the forward pass and the input's gradient; columns for the
/// weight and bias gradients.
final class PiecewiseLinearEmbeddingOp: Op, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let columns: Int, slots: Int, units: Int, passThrough: Int
    /// (C) bins per column (m ≤ slots); a column without a range has none and maps to its bias.
    let binCounts: UnsafeMutablePointer<Int32>
    /// (C, T) each: bin k of column j starts at low[j·T + k] and is width[j·T + k] wide.
    let low: UnsafeMutablePointer<Float>, width: UnsafeMutablePointer<Float>
    /// (C, D, T) weights, as PyTorch lays out a dense layer per column, and (C, D) biases.
    let weight: Parameter, bias: Parameter
    /// (C, T, D) each: the prefix sums P (from the bias) and the weights transposed, rebuilt
    /// every forward pass from the current weights.
    let prefix: UnsafeMutablePointer<Float>, transposed: UnsafeMutablePointer<Float>
    /// (N, C) each: every value's bin and its fraction r, saved by forward for backward.
    let bin: UnsafeMutablePointer<Int32>, fraction: UnsafeMutablePointer<Float>
    /// (C, T, D) each: backward's per-bin sums of dout and of r · dout.
    let binSum: UnsafeMutablePointer<Float>, weightedBinSum: UnsafeMutablePointer<Float>
    /// `binIndex`'s tables, −NaN where a column has no edge: per column `searchEdgeBlocks`
    /// blocks of 16 of the edges e_1 … e_{m−1}, and `searchBlockWidth` values holding the first
    /// edge of each block but the first.
    let searchEdges: UnsafeMutablePointer<Float>, searchBlocks: UnsafeMutablePointer<Float>
    let searchEdgeBlocks: Int, searchBlockWidth: Int
    let pool: ThreadPool
    /// Rows of the pass under way, for `run`.
    private var rows = 0

    init(input: Tensor, output: Tensor, bins: [PiecewiseLinearBins], slots: Int, units: Int, weight: Parameter,
         bias: Parameter, tables: UnsafeMutablePointer<Float>, perBin: UnsafeMutablePointer<Float>,
         fraction: UnsafeMutablePointer<Float>, bin: UnsafeMutablePointer<Int32>, binCounts: UnsafeMutablePointer<Int32>,
         search: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        self.pool = pool
        self.input = input
        self.output = output
        self.slots = slots
        self.units = units
        self.weight = weight
        self.bias = bias
        columns = bins.count
        passThrough = input.sampleSize - columns
        self.binCounts = binCounts
        for (j, column) in bins.enumerated() { binCounts[j] = Int32(column.count) }
        let size = columns * slots, binned = size * units
        (low, width) = (tables, tables + size)
        (prefix, transposed, binSum, weightedBinSum) = (perBin, perBin + binned, perBin + 2 * binned, perBin + 3 * binned)
        (self.bin, self.fraction) = (bin, fraction)
        for (j, column) in bins.enumerated() {
            for t in 0..<slots {
                let used = t < column.count
                low[j * slots + t] = used ? column.edges[t] : 0
                width[j * slots + t] = used ? column.edges[t + 1] - column.edges[t] : 1
            }
        }
        (searchEdgeBlocks, searchBlockWidth) = Self.searchLayout(slots: slots)
        searchEdges = search
        searchBlocks = search + columns * searchEdgeBlocks * Self.lanes
        searchEdges.initialize(repeating: -.nan, count: columns * searchEdgeBlocks * Self.lanes)
        searchBlocks.initialize(repeating: -.nan, count: columns * searchBlockWidth)
        for (j, column) in bins.enumerated() where column.count > 1 {
            let inner = column.edges[1..<column.count]  // e_1 … e_{m−1}
            for (i, edge) in inner.enumerated() {
                searchEdges[j * searchEdgeBlocks * Self.lanes + i] = edge
                if i % Self.lanes == 0, i > 0 { searchBlocks[j * searchBlockWidth + i / Self.lanes - 1] = edge }
            }
        }
    }

    /// Blocks of 16 edges per column in `searchEdges`, and values per column in `searchBlocks`
    /// (a multiple of 16, 0 when one block holds every edge).
    static func searchLayout(slots: Int) -> (edgeBlocks: Int, blockWidth: Int) {
        let edgeBlocks = max((slots - 1 + lanes - 1) / lanes, 1)
        return (edgeBlocks, (edgeBlocks - 1 + lanes - 1) / lanes * lanes)
    }

    /// Floats of `binIndex`'s tables.
    static func searchTableSize(columns: Int, slots: Int) -> Int {
        let (edgeBlocks, blockWidth) = searchLayout(slots: slots)
        return columns * (edgeBlocks * lanes + blockWidth)
    }

    /// The bin of x in column j (m ≥ 1): the last k < m with k = 0 or e_k ≤ x, which is the number of
    /// edges e_1 … e_{m−1} at or below x. Counted in two steps of 16 edges side by side: first
    /// the blocks of 16 edges wholly at or below x (their first edges, `searchBlocks`), then the
    /// edges at or below x in the next block (`searchEdges`). Values fall in random bins, so a
    /// binary search mispredicts a branch about every other step, and the compiler turns the
    /// branch-free form of one back into branches. A NaN lands in some bin of the column.
    /// `binIndexReference` is the definition.
    @inline(__always)
    func binIndex(of x: Float, column j: Int) -> Int {
        var block = 0
        let starts = searchBlocks + j &* searchBlockWidth
        for v in stride(from: 0, to: searchBlockWidth, by: Self.lanes) { block &+= Self.count(atOrBelow: x, starts + v) }
        block = min(block, searchEdgeBlocks &- 1)
        let k = block &* Self.lanes &+ Self.count(atOrBelow: x, searchEdges + (j &* searchEdgeBlocks &+ block) &* Self.lanes)
        return min(k, Int(binCounts[j]) &- 1)
    }

    /// Edges per block of the search tables.
    static let lanes = 16

    /// How many of the 16 values at `edges` are at or below x, from the sign bits of x − e
    /// (Swift compares SIMD floats lane by lane, with branches; it subtracts them as vectors).
    /// x − e is negative exactly when x < e: it is +0 when they are equal and never rounds to
    /// 0 otherwise, and x + 0 turns −0 into +0 (−0 ≤ +0). The tables' padding, −NaN, gives
    /// −NaN: never counted.
    @inline(__always)
    static func count(atOrBelow x: Float, _ edges: UnsafePointer<Float>) -> Int {
        let values = UnsafeRawPointer(edges).loadUnaligned(as: SIMD16<Float>.self)
        let differences = SIMD16<Float>(repeating: x + 0) - values
        let below = unsafeBitCast(differences, to: SIMD16<UInt32>.self) &>> 31
        return lanes &- Int(below.wrappedSum())
    }

    /// `binIndex` as the definition reads.
    func binIndexReference(of x: Float, column j: Int) -> Int {
        let edges = low + j * slots
        return (1..<max(Int(binCounts[j]), 1)).last { edges[$0] <= x } ?? 0
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(columns, costPerItem: 2 * slots * units, self, part: .tables)
        rows = batch
        pool.parallelFor(batch, costPerItem: 4 * columns * units, self, part: .forward)
    }

    /// The prefix sums P and the transposed weights of columns `items`, from the current weights.
    /// The bias starts each prefix sum: a value then costs one multiply-add per unit. The
    /// weights are transposed first, then the sums run along the bins with the units side by
    /// side, each unit's sum added in the same order as a sum along its own weight row, but
    /// the units' sums independent (one sum at a time waits on each addition).
    private func tables(columns items: Range<Int>) {
        let (t, d) = (slots, units)
        let w: UnsafeMutablePointer<Float> = weight.value, biases: UnsafeMutablePointer<Float> = bias.value
        for j in items {
            let m = Int(binCounts[j]), table = j * t * d
            guard m > 0 else { continue }
            for unit in 0..<d {
                let weights = w + (j * d + unit) * t
                for k in 0..<m { transposed[table + k * d + unit] = weights[k] }
            }
            let p = prefix + table, v = transposed + table
            p.update(from: biases + j * d, count: d)
            for k in 1..<m {
                rowSum(p + (k - 1) * d, v + (k - 1) * d, into: p + k * d, count: d)
            }
        }
    }

    func backward(batch: Int) {
        guard output.grad != nil else { return }
        rows = batch
        // Weight and bias are one layer's: both trainable or both frozen.
        if !weight.frozen { pool.parallelFor(columns, costPerItem: 4 * batch * units, self, part: .parameterGradients) }
        if input.grad != nil { pool.parallelFor(batch, costPerItem: 4 * columns * units, self, part: .inputGradient) }
    }

    /// The loops the op hands the pool: forward and the input's gradient over rows; the tables
    /// forward reads, and the weight and bias gradients, over columns (a column's sums are its
    /// own).
    enum Part: Int { case tables, forward, parameterGradients, inputGradient }

    func run(_ items: Range<Int>, part: Part, worker: Int) {
        switch part {
        case .tables: tables(columns: items)
        case .forward: forwardRows(items)
        case .parameterGradients: parameterGradients(columns: items)
        case .inputGradient: inputGradient(rows: items)
        }
    }

    private func forwardRows(_ items: Range<Int>) {
        let (c, t, d, inWidth, outWidth) = (columns, slots, units, input.sampleSize, output.sampleSize)
        let x: UnsafeMutablePointer<Float> = input.data, out: UnsafeMutablePointer<Float> = output.data
        let biases: UnsafeMutablePointer<Float> = bias.value
        let bin = self.bin, fraction = self.fraction, low = self.low, width = self.width
        let prefix = self.prefix, transposed = self.transposed
        // Column by column: a column's tables stay in cache over the rows.
        for j in 0..<c {
            guard binCounts[j] > 0 else {
                for n in items {
                    let y = out + n * outWidth + j * d
                    y.update(from: biases + j * d, count: d)
                    bin[n * c + j] = -1
                }
                continue
            }
            for n in items {
                let value = x[n * inWidth + j]
                let k = binIndex(of: value, column: j), s = j * t + k
                let r = (value - low[s]) / width[s]
                bin[n * c + j] = Int32(k)
                fraction[n * c + j] = r
                rowSum(prefix + s * d, transposed + s * d, times: r, into: out + n * outWidth + j * d, count: d)
            }
        }
        for n in items {
            let indicators = out + n * outWidth + c * d
            indicators.update(from: x + n * inWidth + c, count: passThrough)
        }
    }

    private func parameterGradients(columns items: Range<Int>) {
        let (c, t, d, outWidth) = (columns, slots, units, output.sampleSize)
        guard let dout = output.grad else { return }
        let weightGrad: UnsafeMutablePointer<Float> = weight.grad, biasGrad: UnsafeMutablePointer<Float> = bias.grad
        for j in items {
            let m = Int(binCounts[j])
            for n in 0..<rows {
                let g = dout + n * outWidth + j * d
                rowSum(biasGrad + j * d, g, into: biasGrad + j * d, count: d)
            }
            guard m > 0 else { continue }
            let sums = binSum + j * t * d, weighted = weightedBinSum + j * t * d
            sums.update(repeating: 0, count: m * d)
            weighted.update(repeating: 0, count: m * d)
            for n in 0..<rows {
                let k = Int(bin[n * c + j]), r = fraction[n * c + j], g = dout + n * outWidth + j * d
                rowSum(sums + k * d, g, into: sums + k * d, count: d)
                rowSum(weighted + k * d, g, times: r, into: weighted + k * d, count: d)
            }
            // Slot t of a row is 1 for every bin after t: each bin's sums become the sums of it
            // and every later bin, the units side by side, each added in the order a running
            // sum from the last bin down would add them.
            for k in stride(from: m - 2, through: 0, by: -1) {
                rowSum(sums + k * d, sums + (k + 1) * d, into: sums + k * d, count: d)
            }
            for unit in 0..<d {
                let grad = weightGrad + (j * d + unit) * t
                for k in 0..<(m - 1) { grad[k] += weighted[k * d + unit] + sums[(k + 1) * d + unit] }
                grad[m - 1] += weighted[(m - 1) * d + unit]
            }
        }
    }

    private func inputGradient(rows items: Range<Int>) {
        let (c, t, d, inWidth, outWidth) = (columns, slots, units, input.sampleSize, output.sampleSize)
        guard let dout = output.grad, let dx = input.grad else { return }
        for n in items {
            let g = dout + n * outWidth, dxRow = dx + n * inWidth
            for j in 0..<c where bin[n * c + j] >= 0 {
                let k = Int(bin[n * c + j]), s = j * t + k, r = fraction[n * c + j]
                // The same clamps as the encoding: a slot held at 0 or 1 passes no gradient.
                guard k == 0 || r > 0, k == Int(binCounts[j]) - 1 || r < 1 else { continue }
                let v = transposed + s * d, gj = g + j * d
                var sum: Float = 0
                for unit in 0..<d { sum += gj[unit] * v[unit] }
                dxRow[j] += sum / width[s]
            }
            for i in 0..<passThrough { dxRow[c + i] += g[c * d + i] }
        }
    }

    /// Per value and unit a multiply-add forward, two sums for the weights, one for the input.
    func flops(batch: Int) -> Double {
        let passes = 1 + (weight.frozen ? 0 : 2) + (input.grad == nil ? 0 : 1)
        return 2 * Double(batch * columns * units * passes)
    }
}

/// c[i] = a[i] + b[i] (times `scale` when given: a[i] + scale · b[i]) for i < count, eight at a
/// time: the compiler leaves these short loops over rows scalar, unsure the rows do not
/// overlap. Each element is the plain loop's to the bit (no fused multiply-add).
@inline(__always)
func rowSum(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, times scale: Float? = nil,
            into c: UnsafeMutablePointer<Float>, count: Int) {
    typealias Lanes = SIMD8<Float>
    var i = 0
    while i &+ Lanes.scalarCount <= count {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: Lanes.self), y = UnsafeRawPointer(b + i).loadUnaligned(as: Lanes.self)
        UnsafeMutableRawPointer(c + i).storeBytes(of: scale.map { x + $0 * y } ?? x + y, as: Lanes.self)
        i &+= Lanes.scalarCount
    }
    while i < count {
        c[i] = scale.map { a[i] + $0 * b[i] } ?? a[i] + b[i]
        i &+= 1
    }
}
