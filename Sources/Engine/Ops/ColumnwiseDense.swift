// A dense layer per column of a numeric input: column j's F features (its periodic encoding)
// map to D values by weights of its own. PyTorch's layout per column:
// weight (C, D, F), bias (C, D). Each column is one sgemm with strided rows, so the (N, C, F)
// features are read and the (N, C·D) result written in place, without gathering copies.

/// The per-column dense maps of the periodic encoding (not an op of its own: the encoding op
/// owns one and calls it between its own steps).
struct ColumnwiseDense {
    let columns: Int, features: Int, units: Int
    /// (C, D, F).
    let weight: Parameter
    /// (C, D).
    let bias: Parameter
    let product: MatrixProduct

    /// out[n, j·D + d] = Σ_f x[n, j·F + f] · weight[j, d, f] + bias[j, d], for the first C·D
    /// values of each output row (`outStride` apart); with `relu`, max(·, 0).
    func forward(batch: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, outStride: Int, relu: Bool) {
        let (c, f, d) = (columns, features, units)
        for j in 0..<c {
            product(transB: true, m: batch, n: d, k: f, x + j * f, lda: c * f, weight.value + j * d * f, ldb: f,
                    beta: 0, out + j * d, ldc: outStride, bias: UnsafePointer(bias.value + j * d), relu: relu)
        }
    }

    /// dweight[j] += doutⱼᵀ · xⱼ; dbias[j] += Σₙ doutⱼ; dx (N, C·F) = doutⱼ · weight[j] (assigned).
    /// With `relu`, dout is first masked in place by out > 0 (the caller alone reads it).
    func backward(batch: Int, x: UnsafePointer<Float>, out: UnsafePointer<Float>, dout: UnsafeMutablePointer<Float>,
                  outStride: Int, relu: Bool, dx: UnsafeMutablePointer<Float>?) {
        let (c, f, d) = (columns, features, units)
        if relu {
            for n in 0..<batch {
                let row = n * outStride
                for v in 0..<(c * d) where out[row + v] <= 0 { dout[row + v] = 0 }
            }
        }
        if !bias.frozen {
            for n in 0..<batch {
                let row = dout + n * outStride
                for v in 0..<(c * d) { bias.grad[v] += row[v] }
            }
        }
        for j in 0..<c {
            if !weight.frozen {
                product(transA: true, m: d, n: f, k: batch, dout + j * d, lda: outStride, x + j * f, ldb: c * f,
                        beta: 1, weight.grad + j * d * f, ldc: f)
            }
            if let dx {
                product(m: batch, n: f, k: d, dout + j * d, lda: outStride, weight.value + j * d * f, ldb: f,
                        beta: 0, dx + j * f, ldc: c * f)
            }
        }
    }

    /// Forward, the weights' gradient when they are trainable, the features' when asked for.
    func flops(batch: Int, featureGradient: Bool) -> Double {
        let passes = 1 + (weight.frozen ? 0 : 1) + (featureGradient ? 1 : 0)
        return 2 * Double(batch * columns * features * units) * Double(passes)
    }
}

extension PlanBuilder {
    /// The weights of `columns` dense maps from `features` to `units` values each.
    func columnwiseDense(columns: Int, features: Int, units: Int, initialization: WeightScheme,
                         name: String) -> ColumnwiseDense {
        let weight = parameter("\(name).weight", [columns, units, features],
                               initialization.weight(fanIn: features, fanOut: units))
        let bias = parameter("\(name).bias", [columns, units], initialization.bias(fanIn: features))
        return ColumnwiseDense(columns: columns, features: features, units: units, weight: weight, bias: bias,
                               product: MatrixProduct(pool: pool))
    }
}
