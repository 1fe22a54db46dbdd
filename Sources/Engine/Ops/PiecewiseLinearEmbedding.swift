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
    let pool: ThreadPool
    /// Rows of the pass under way, for `run`.
    private var rows = 0

    init(input: Tensor, output: Tensor, bins: [PiecewiseLinearBins], slots: Int, units: Int, weight: Parameter,
         bias: Parameter, tables: UnsafeMutablePointer<Float>, perBin: UnsafeMutablePointer<Float>,
         fraction: UnsafeMutablePointer<Float>, bin: UnsafeMutablePointer<Int32>, binCounts: UnsafeMutablePointer<Int32>,
         pool: ThreadPool) {
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
    }

    /// The bin of x in column j: the last k < m with k = 0 or e_k ≤ x. A binary search whose
    /// steps add a comparison's 0 or 1 instead of branching: values fall in random bins, so
    /// branches would mispredict about every other step.
    @inline(__always)
    func binIndex(of x: Float, column j: Int) -> Int {
        let edges = low + j &* slots
        var (base, count) = (0, Int(binCounts[j]))
        while count > 1 {
            let half = count &>> 1
            base &+= half &* Int(unsafeBitCast(edges[base &+ half] <= x, to: UInt8.self))
            count &-= half
        }
        return base
    }

    func forward(batch: Int, mode: PassMode) {
        pool.parallelFor(columns, costPerItem: 2 * slots * units, self, part: .tables)
        rows = batch
        pool.parallelFor(batch, costPerItem: 4 * columns * units, self, part: .forward)
    }

    /// The prefix sums P and the transposed weights of columns `items`, from the current weights.
    /// The bias starts each prefix sum: a value then costs one multiply-add per unit. Each
    /// weight row (j, unit) is read in order; the tables are written 64 bytes apart.
    private func tables(columns items: Range<Int>) {
        let (t, d) = (slots, units)
        let w: UnsafeMutablePointer<Float> = weight.value, biases: UnsafeMutablePointer<Float> = bias.value
        for j in items {
            for unit in 0..<d {
                let weights = w + (j * d + unit) * t, table = j * t * d + unit
                var sum = biases[j * d + unit]
                for k in 0..<Int(binCounts[j]) {
                    prefix[table + k * d] = sum
                    transposed[table + k * d] = weights[k]
                    sum += weights[k]
                }
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
        let biases: UnsafeMutablePointer<Float> = bias.value
        for n in items {
            let x = input.data + n * inWidth, out = output.data + n * outWidth
            for j in 0..<c {
                let y = out + j * d
                guard binCounts[j] > 0 else {
                    y.update(from: biases + j * d, count: d)
                    bin[n * c + j] = -1
                    continue
                }
                let k = binIndex(of: x[j], column: j), s = j * t + k
                let r = (x[j] - low[s]) / width[s]
                bin[n * c + j] = Int32(k)
                fraction[n * c + j] = r
                let p = prefix + s * d, v = transposed + s * d
                for unit in 0..<d { y[unit] = p[unit] + r * v[unit] }
            }
            (out + c * d).update(from: x + c, count: passThrough)
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
                for unit in 0..<d { biasGrad[j * d + unit] += g[unit] }
            }
            guard m > 0 else { continue }
            let sums = binSum + j * t * d, weighted = weightedBinSum + j * t * d
            sums.update(repeating: 0, count: m * d)
            weighted.update(repeating: 0, count: m * d)
            for n in 0..<rows {
                let k = Int(bin[n * c + j]), r = fraction[n * c + j], g = dout + n * outWidth + j * d
                for unit in 0..<d {
                    sums[k * d + unit] += g[unit]
                    weighted[k * d + unit] += r * g[unit]
                }
            }
            // Slot t of a row is 1 for every bin after t: a suffix sum of the bins' sums.
            for unit in 0..<d {
                let grad = weightGrad + (j * d + unit) * t
                var later: Float = 0
                for k in stride(from: m - 1, through: 0, by: -1) {
                    grad[k] += weighted[k * d + unit] + later
                    later += sums[k * d + unit]
                }
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
