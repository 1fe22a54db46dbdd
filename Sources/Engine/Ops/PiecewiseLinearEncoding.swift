// Piecewise-linear encoding of numeric columns (Gorishniy et al., 2022, "On Embeddings for
// Numerical Features in Tabular Deep Learning"). Column j with bin edges e₀ < e₁ < … < e_m
// becomes T ≥ m values; slot t < m is
//     r_t = (x − e_t) / (e_{t+1} − e_t), clamped below at 0 when t > 0 and above at 1 when t < m − 1,
// and slots t ≥ m are 0 (a column with fewer distinct edges than bins). Below the first edge
// only slot 0 moves (negative), above the last only slot m − 1 (past 1): the encoding stays
// one-to-one outside the training range. Trailing indicator columns (`missing: mean`) pass
// through. With a dense map per column after it, PiecewiseLinearEmbeddingOp computes both
// without writing the slots.
//
// Input (N, C + I), output (N, C·T + I).

/// The encoding of one column's value into `bins` slots, and the slots' derivatives, written as
/// the formula reads: the reference the op's tables reproduce and the tests compare with.
public struct PiecewiseLinearBins: Sendable, Equatable {
    /// Increasing edges; m + 1 of them for m bins, none for a column without a range.
    public let edges: [Float]

    public init(edges: [Float]) { self.edges = edges }

    var count: Int { max(edges.count - 1, 0) }

    /// Slot t of x, and its derivative with respect to x.
    @inline(__always)
    func slot(_ t: Int, of x: Float) -> (value: Float, derivative: Float) {
        let m = count
        guard t < m else { return (0, 0) }
        let width = edges[t + 1] - edges[t]
        let r = (x - edges[t]) / width
        if t > 0, r <= 0 { return (0, 0) }
        if t < m - 1, r >= 1 { return (1, 0) }
        return (r, 1 / width)
    }

    /// The encoding of x in `slots` values.
    public func encode(_ x: Float, slots: Int) -> [Float] { (0..<slots).map { slot($0, of: x).value } }
}

/// The op's loops read each slot's table entry instead of `PiecewiseLinearBins.slot`: slot
/// (j, t) = min(max((x − low) / width, floor), ceiling), with floor 0 (−∞ for t = 0), ceiling
/// 1 (+∞ for the column's last bin), and floor = ceiling = 0 for the unused slots. No branch,
/// and the same numbers as the reference.
final class PiecewiseLinearEncodingOp: Op {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let columns: Int, slots: Int, passThrough: Int
    /// (C, T) each: the slot tables.
    let low: UnsafeMutablePointer<Float>, width: UnsafeMutablePointer<Float>
    let floor: UnsafeMutablePointer<Float>, ceiling: UnsafeMutablePointer<Float>

    init(input: Tensor, output: Tensor, bins: [PiecewiseLinearBins], slots: Int, tables: UnsafeMutablePointer<Float>) {
        self.input = input
        self.output = output
        self.slots = slots
        columns = bins.count
        passThrough = input.sampleSize - columns
        let size = columns * slots
        (low, width, floor, ceiling) = (tables, tables + size, tables + 2 * size, tables + 3 * size)
        for (j, column) in bins.enumerated() {
            let m = column.count
            for t in 0..<slots {
                let k = j * slots + t
                let used = t < m
                low[k] = used ? column.edges[t] : 0
                width[k] = used ? column.edges[t + 1] - column.edges[t] : 1
                floor[k] = used && t == 0 ? -.infinity : 0
                ceiling[k] = !used ? 0 : t < m - 1 ? 1 : .infinity
            }
        }
    }

    func forward(batch: Int, mode: PassMode) {
        let (c, t, inWidth, outWidth) = (columns, slots, input.sampleSize, output.sampleSize)
        for n in 0..<batch {
            let x = input.data + n * inWidth, row = output.data + n * outWidth
            for j in 0..<c {
                let value = x[j], base = j * t
                for s in base..<(base + t) {
                    row[s] = min(max((value - low[s]) / width[s], floor[s]), ceiling[s])
                }
            }
            (row + c * t).update(from: x + c, count: passThrough)
        }
    }

    /// dx[n, j] += Σ_t dslot[n, j, t] · ∂slot_t/∂x (1 / width inside the clamps, else 0); the
    /// indicators' gradients pass through.
    func backward(batch: Int) {
        let (c, t, inWidth, outWidth) = (columns, slots, input.sampleSize, output.sampleSize)
        guard let dout = output.grad, let dx = input.grad else { return }
        for n in 0..<batch {
            let x = input.data + n * inWidth, d = dout + n * outWidth, dxRow = dx + n * inWidth
            for j in 0..<c {
                var sum: Float = 0
                for s in (j * t)..<((j + 1) * t) {
                    let raw = (x[j] - low[s]) / width[s]
                    if raw > floor[s], raw < ceiling[s] { sum += d[s] / width[s] }
                }
                dxRow[j] += sum
            }
            for i in 0..<passThrough { dxRow[c + i] += d[c * t + i] }
        }
    }
}

extension PlanBuilder {
    /// The piecewise-linear encoding of the first `bins.count` columns of `input` in `slots`
    /// values each (at least the most bins any column has), through a per-column dense map to
    /// `dimension` values when given; the other columns follow unchanged.
    public func piecewiseLinearEncoding(_ input: Tensor, bins: [PiecewiseLinearBins], slots: Int, dimension: Int?,
                                        initialization: WeightScheme, name: String) -> Tensor {
        precondition(input.shape.count == 1 && bins.count <= input.sampleSize && bins.allSatisfy { $0.count <= slots })
        let columns = bins.count, passThrough = input.sampleSize - columns
        guard let units = dimension else {
            let output = tensor([columns * slots + passThrough])
            add(PiecewiseLinearEncodingOp(input: input, output: output, bins: bins, slots: slots,
                                          tables: scratch(4 * columns * slots)))
            return output
        }
        // PyTorch's layout and initialisation of a dense layer per column, as ColumnwiseDense.
        let weight = parameter("\(name).weight", [columns, units, slots],
                               initialization.weight(fanIn: slots, fanOut: units))
        let bias = parameter("\(name).bias", [columns, units], initialization.bias(fanIn: slots))
        let output = tensor([columns * units + passThrough])
        add(PiecewiseLinearEmbeddingOp(input: input, output: output, bins: bins, slots: slots, units: units,
                                       weight: weight, bias: bias, tables: scratch(2 * columns * slots),
                                       perBin: scratch(4 * columns * slots * units), fraction: scratch(maxBatch * columns),
                                       bin: arena.int32s(maxBatch * columns), binCounts: arena.int32s(columns),
                                       search: scratch(PiecewiseLinearEmbeddingOp.searchTableSize(columns: columns,
                                                                                                 slots: slots)),
                                       pool: pool))
        return output
    }
}
