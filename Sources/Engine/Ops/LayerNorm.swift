import Foundation

// Layer normalisation over the last axis (llm.c's layernorm_forward / layernorm_backward).

/// out = (inp − mean) · rstd · weight + bias for each row of C in `rows`; saves mean and rstd
/// per row. The plain loops, the reference for `layerNormForward`.
func layerNormForwardReference(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                               _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Range<Int>,
                               _ c: Int, _ epsilon: Float) {
    for r in rows {
        let x = inp + r * c, y = out + r * c
        var m: Float = 0
        for i in 0..<c { m += x[i] }
        m /= Float(c)
        var v: Float = 0
        for i in 0..<c { v += (x[i] - m) * (x[i] - m) }
        v /= Float(c)
        let s = 1 / (v + epsilon).squareRoot()
        for i in 0..<c { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
        mean[r] = m
        rstd[r] = s
    }
}

/// dinp += rstd · (g − mean(g) − x̂ · mean(g · x̂)) with g = dout · weight, for each row in
/// `rows`. The plain loops, the reference for `layerNormBackwardInput`.
func layerNormBackwardInputReference(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                     _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                     _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ rows: Range<Int>,
                                     _ c: Int) {
    for r in rows {
        let x = inp + r * c, d = dout + r * c, dx = dinp + r * c
        let m = mean[r], s = rstd[r]
        var gMean: Float = 0, gxMean: Float = 0
        for i in 0..<c {
            let g = d[i] * weight[i]
            gMean += g
            gxMean += g * (x[i] - m) * s
        }
        gMean /= Float(c)
        gxMean /= Float(c)
        for i in 0..<c { dx[i] += (d[i] * weight[i] - gMean - (x[i] - m) * s * gxMean) * s }
    }
}

/// Eight rows side by side: lane k of a `RowLanes` belongs to row k of a group of eight.
private typealias RowLanes = SIMD8<Float>

/// Element i of eight rows C apart.
@inline(__always)
private func column(_ p: UnsafePointer<Float>, _ i: Int, _ c: Int) -> RowLanes {
    RowLanes(p[i], p[c &+ i], p[2 &* c &+ i], p[3 &* c &+ i], p[4 &* c &+ i], p[5 &* c &+ i], p[6 &* c &+ i],
             p[7 &* c &+ i])
}

/// `layerNormForwardReference`, with the row sums (mean, variance) of eight rows at a time in
/// the lanes of one vector. Each row's sum still adds its elements in order, so the result is
/// the reference's to the bit; but one row's sum waits on each addition, and the sums of a
/// row were most of layer norm's time.
func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                      _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                      _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Range<Int>, _ c: Int,
                      _ epsilon: Float) {
    var r = rows.lowerBound
    while r + RowLanes.scalarCount <= rows.upperBound {
        let x = inp + r * c
        var m = RowLanes()
        for i in 0..<c { m += column(x, i, c) }
        m /= Float(c)
        var v = RowLanes()
        for i in 0..<c {
            let d = column(x, i, c) - m
            v += d * d
        }
        v /= Float(c)
        let s = 1 / (v + epsilon).squareRoot()
        for k in 0..<RowLanes.scalarCount {
            let (xk, yk, mk, sk) = (x + k * c, out + (r + k) * c, m[k], s[k])
            for i in 0..<c { yk[i] = (xk[i] - mk) * sk * weight[i] + bias[i] }
            mean[r + k] = mk
            rstd[r + k] = sk
        }
        r += RowLanes.scalarCount
    }
    layerNormForwardReference(out, mean, rstd, inp, weight, bias, r..<rows.upperBound, c, epsilon)
}

/// `layerNormBackwardInputReference`, its two row sums eight rows at a time as in
/// `layerNormForward`: the reference's result to the bit.
func layerNormBackwardInput(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                            _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                            _ rstd: UnsafePointer<Float>, _ rows: Range<Int>, _ c: Int) {
    var r = rows.lowerBound
    while r + RowLanes.scalarCount <= rows.upperBound {
        let x = inp + r * c, d = dout + r * c
        let m = UnsafeRawPointer(mean + r).loadUnaligned(as: RowLanes.self)
        let s = UnsafeRawPointer(rstd + r).loadUnaligned(as: RowLanes.self)
        var gMean = RowLanes(), gxMean = RowLanes()
        for i in 0..<c {
            let g = column(d, i, c) * weight[i]
            gMean += g
            gxMean += g * (column(x, i, c) - m) * s
        }
        gMean /= Float(c)
        gxMean /= Float(c)
        for k in 0..<RowLanes.scalarCount {
            let (xk, dk, dx) = (x + k * c, d + k * c, dinp + (r + k) * c)
            let (mk, sk, gm, gxm) = (m[k], s[k], gMean[k], gxMean[k])
            for i in 0..<c { dx[i] += (dk[i] * weight[i] - gm - (xk[i] - mk) * sk * gxm) * sk }
        }
        r += RowLanes.scalarCount
    }
    layerNormBackwardInputReference(dinp, dout, inp, weight, mean, rstd, r..<rows.upperBound, c)
}

/// dweight += Σ_rows dout · x̂ and dbias += Σ_rows dout, for the columns in `columns`: each
/// column's sums are its own, so columns split between threads without sharing a sum. The
/// plain loops, the reference for `layerNormBackwardParameters`.
func layerNormBackwardParametersReference(_ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>,
                                          _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                                          _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ rows: Int,
                                          _ c: Int, _ columns: Range<Int>) {
    for r in 0..<rows {
        let x = inp + r * c, d = dout + r * c
        let m = mean[r], s = rstd[r]
        for i in columns {
            dweight[i] += d[i] * (x[i] - m) * s
            dbias[i] += d[i]
        }
    }
}

/// The same sums, eight columns at a time held in registers down the rows (the plain loop
/// reloads and stores both sums for every element; it took a tenth of the orders flow's step).
/// Each column still adds its rows in order onto its value before: the result is the
/// reference's to the bit.
func layerNormBackwardParameters(_ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>,
                                 _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                                 _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ rows: Int,
                                 _ c: Int, _ columns: Range<Int>) {
    typealias Lanes = SIMD8<Float>
    var i = columns.lowerBound
    while i + Lanes.scalarCount <= columns.upperBound {
        var w = UnsafeRawPointer(dweight + i).loadUnaligned(as: Lanes.self)
        var b = UnsafeRawPointer(dbias + i).loadUnaligned(as: Lanes.self)
        for r in 0..<rows {
            let d = UnsafeRawPointer(dout + r * c + i).loadUnaligned(as: Lanes.self)
            let x = UnsafeRawPointer(inp + r * c + i).loadUnaligned(as: Lanes.self)
            w += d * (x - mean[r]) * rstd[r]
            b += d
        }
        UnsafeMutableRawPointer(dweight + i).storeBytes(of: w, as: Lanes.self)
        UnsafeMutableRawPointer(dbias + i).storeBytes(of: b, as: Lanes.self)
        i += Lanes.scalarCount
    }
    layerNormBackwardParametersReference(dweight, dbias, dout, inp, mean, rstd, rows, c, i..<columns.upperBound)
}

/// Rows split between threads for the forward pass and the input's gradient; columns for the
/// weight and bias gradients.
final class LayerNormOp: Op, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter, bias: Parameter
    let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    let features: Int, positions: Int
    let epsilon: Float
    let pool: ThreadPool
    /// Rows of the pass under way (batch × positions), for `run`.
    private var rows = 0

    init(input: Tensor, output: Tensor, weight: Parameter, bias: Parameter, mean: UnsafeMutablePointer<Float>,
         rstd: UnsafeMutablePointer<Float>, epsilon: Float, pool: ThreadPool) {
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.mean = mean
        self.rstd = rstd
        self.epsilon = epsilon
        self.pool = pool
        features = input.shape.last!
        positions = input.sampleSize / features
    }

    func forward(batch: Int, mode: PassMode) {
        rows = batch * positions
        pool.parallelFor(rows, costPerItem: 6 * features, self, part: .forward)
    }

    func backward(batch: Int) {
        guard output.grad != nil else { return }
        rows = batch * positions
        if input.grad != nil { pool.parallelFor(rows, costPerItem: 8 * features, self, part: .inputGradient) }
        // Both are trainable or both frozen: freezing goes by layer.
        if !weight.frozen { pool.parallelFor(features, costPerItem: 4 * rows, self, part: .parameterGradients) }
    }

    /// The loops the op hands the pool: forward and the input's gradient over rows, the weight
    /// and bias gradients over columns.
    enum Part: Int { case forward, inputGradient, parameterGradients }

    func run(_ items: Range<Int>, part: Part, worker: Int) {
        switch (part, input.grad, output.grad) {
        case (.forward, _, _):
            layerNormForward(output.data, mean, rstd, input.data, weight.value, bias.value, items, features, epsilon)
        case (.inputGradient, let dinp?, let dout?):
            layerNormBackwardInput(dinp, dout, input.data, weight.value, mean, rstd, items, features)
        case (.parameterGradients, _, let dout?):
            layerNormBackwardParameters(weight.grad, bias.grad, dout, input.data, mean, rstd, rows, features, items)
        default:
            break
        }
    }
}

extension PlanBuilder {
    public func layerNorm(_ input: Tensor, epsilon: Float = 1e-5, name: String) -> Tensor {
        let c = input.shape.last!
        let weight = parameter("\(name).weight", [c], .constant(1))
        let bias = parameter("\(name).bias", [c], .constant(0))
        let output = tensor(input.shape)
        let rows = maxBatch * input.sampleSize / c
        add(LayerNormOp(input: input, output: output, weight: weight, bias: bias, mean: scratch(rows),
                        rstd: scratch(rows), epsilon: epsilon, pool: pool))
        return output
    }
}
