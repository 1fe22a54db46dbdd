// Piecewise-linear encoding of numeric columns (Gorishniy et al., 2022, "On Embeddings for
// Numerical Features in Tabular Deep Learning"). Column j with bin edges e₀ < e₁ < … < e_m
// becomes T ≥ m values; slot t < m is
//     r_t = (x − e_t) / (e_{t+1} − e_t), clamped below at 0 when t > 0 and above at 1 when t < m − 1,
// and slots t ≥ m are 0 (a column with fewer distinct edges than bins). Below the first edge
// only slot 0 moves (negative), above the last only slot m − 1 (past 1): the encoding stays
// one-to-one outside the training range. Optionally each column's T values go through a dense
// map of its own to D values. Trailing indicator columns (`missing: mean`) pass through.
//
// Input (N, C + I), output (N, C·T + I), or (N, C·D + I) with the map.

/// The encoding of one column's value into `bins` slots, and the slots' derivatives: the
/// reference the op's loops follow and the tests compare with.
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

final class PiecewiseLinearEncodingOp: Op {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let columns: Int, slots: Int, passThrough: Int
    let bins: [PiecewiseLinearBins]
    let map: ColumnwiseDense?
    /// (N, C, T) encodings when a map follows (else they are written into the output), and
    /// their gradient when the input has one.
    let encoded: UnsafeMutablePointer<Float>?, dEncoded: UnsafeMutablePointer<Float>?

    init(input: Tensor, output: Tensor, bins: [PiecewiseLinearBins], slots: Int, map: ColumnwiseDense?,
         encoded: UnsafeMutablePointer<Float>?, dEncoded: UnsafeMutablePointer<Float>?) {
        self.input = input
        self.output = output
        self.bins = bins
        self.slots = slots
        self.map = map
        self.encoded = encoded
        self.dEncoded = dEncoded
        columns = bins.count
        passThrough = input.sampleSize - columns
    }

    func forward(batch: Int, mode: PassMode) {
        let (c, t, width, outWidth) = (columns, slots, input.sampleSize, output.sampleSize)
        // Without a map the slots go straight into the output rows.
        let target = encoded ?? output.data, stride = encoded == nil ? outWidth : c * t
        for n in 0..<batch {
            let x = input.data + n * width, row = target + n * stride
            for j in 0..<c {
                for s in 0..<t { row[j * t + s] = bins[j].slot(s, of: x[j]).value }
            }
        }
        if let map, let encoded {
            map.forward(batch: batch, x: encoded, out: output.data, outStride: outWidth, relu: false)
        }
        let values = outWidth - passThrough
        for n in 0..<batch {
            (output.data + n * outWidth + values).update(from: input.data + n * width + c, count: passThrough)
        }
    }

    /// dx[n, j] += Σ_t dslot[n, j, t] · ∂slot_t/∂x; the indicators' gradients pass through.
    func backward(batch: Int) {
        let (c, t, width, outWidth) = (columns, slots, input.sampleSize, output.sampleSize)
        guard let dout = output.grad else { return }
        if let map, let encoded {
            map.backward(batch: batch, x: encoded, out: output.data, dout: dout, outStride: outWidth, relu: false,
                         dx: input.grad == nil ? nil : dEncoded)
        }
        guard let dx = input.grad else { return }
        let dslots = dEncoded ?? dout, stride = dEncoded == nil ? outWidth : c * t
        let values = outWidth - passThrough
        for n in 0..<batch {
            let x = input.data + n * width, d = dslots + n * stride, dxRow = dx + n * width
            for j in 0..<c {
                var sum: Float = 0
                for s in 0..<t { sum += d[j * t + s] * bins[j].slot(s, of: x[j]).derivative }
                dxRow[j] += sum
            }
            for i in 0..<passThrough { dxRow[c + i] += dout[n * outWidth + values + i] }
        }
    }

    func flops(batch: Int) -> Double { map?.flops(batch: batch) ?? 0 }
}

extension PlanBuilder {
    /// The piecewise-linear encoding of the first `bins.count` columns of `input` in `slots`
    /// values each (at least the most bins any column has), through a per-column dense map to
    /// `dimension` values when given; the other columns follow unchanged.
    public func piecewiseLinearEncoding(_ input: Tensor, bins: [PiecewiseLinearBins], slots: Int, dimension: Int?,
                                        initialization: WeightScheme, name: String) -> Tensor {
        precondition(input.shape.count == 1 && bins.count <= input.sampleSize && bins.allSatisfy { $0.count <= slots })
        let columns = bins.count, passThrough = input.sampleSize - columns
        let map = dimension.map {
            columnwiseDense(columns: columns, features: slots, units: $0, initialization: initialization, name: name)
        }
        let output = tensor([columns * (dimension ?? slots) + passThrough])
        let encoded = map == nil ? nil : scratch(maxBatch * columns * slots)
        let dEncoded = map == nil || input.grad == nil ? nil : scratch(maxBatch * columns * slots)
        add(PiecewiseLinearEncodingOp(input: input, output: output, bins: bins, slots: slots, map: map,
                                      encoded: encoded, dEncoded: dEncoded))
        return output
    }
}
