// Periodic encoding of numeric columns (Gorishniy et al., 2022, the "PLR" embedding): column j
// with learned frequencies c_j (K of them, drawn from N(0, σ²)) becomes
//     v_i = 2π c_{j,i} x,   features = [sin v_0 … sin v_{K−1}, cos v_0 … cos v_{K−1}],
// then a dense map of its own to D values and a ReLU. Trailing indicator columns
// (`missing: mean`) pass through.
//
// Input (N, C + I), output (N, C·D + I).

final class PeriodicEncodingOp: Op {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let columns: Int, frequencyCount: Int, passThrough: Int
    /// (C, K).
    let frequencies: Parameter
    let map: ColumnwiseDense
    /// (N, C, 2K): the sines then the cosines of each column; and their gradient.
    let features: UnsafeMutablePointer<Float>, dFeatures: UnsafeMutablePointer<Float>

    init(input: Tensor, output: Tensor, frequencies: Parameter, map: ColumnwiseDense,
         features: UnsafeMutablePointer<Float>, dFeatures: UnsafeMutablePointer<Float>) {
        self.input = input
        self.output = output
        self.frequencies = frequencies
        self.map = map
        self.features = features
        self.dFeatures = dFeatures
        columns = frequencies.shape[0]
        frequencyCount = frequencies.shape[1]
        passThrough = input.sampleSize - columns
    }

    func forward(batch: Int, mode: PassMode) {
        let (c, k, width, outWidth) = (columns, frequencyCount, input.sampleSize, output.sampleSize)
        for n in 0..<batch {
            let x = input.data + n * width
            for j in 0..<c {
                let f = features + (n * c + j) * 2 * k, frequency = frequencies.value + j * k
                for i in 0..<k {
                    let v = 2 * Float.pi * frequency[i] * x[j]
                    f[i] = sin(v)
                    f[k + i] = cos(v)
                }
            }
        }
        map.forward(batch: batch, x: features, out: output.data, outStride: outWidth, relu: true)
        let values = outWidth - passThrough
        for n in 0..<batch {
            (output.data + n * outWidth + values).update(from: input.data + n * width + c, count: passThrough)
        }
    }

    /// With dsin, dcos the features' gradients: ∂L/∂v_i = dsin_i cos v_i − dcos_i sin v_i, so
    /// dc_{j,i} += Σₙ 2π x ∂L/∂v_i and dx[n, j] += Σ_i 2π c_{j,i} ∂L/∂v_i.
    func backward(batch: Int) {
        let (c, k, width, outWidth) = (columns, frequencyCount, input.sampleSize, output.sampleSize)
        guard let dout = output.grad else { return }
        map.backward(batch: batch, x: features, out: output.data, dout: dout, outStride: outWidth, relu: true,
                     dx: dFeatures)
        let dfrequencies = frequencies.frozen ? nil : frequencies.grad
        let values = outWidth - passThrough
        for n in 0..<batch {
            let x = input.data + n * width, dx = input.grad.map { $0 + n * width }
            for j in 0..<c {
                let f = features + (n * c + j) * 2 * k, d = dFeatures + (n * c + j) * 2 * k
                let frequency = frequencies.value + j * k
                var sum: Float = 0
                for i in 0..<k {
                    let dv = d[i] * f[k + i] - d[k + i] * f[i]
                    dfrequencies?[j * k + i] += 2 * Float.pi * x[j] * dv
                    sum += 2 * Float.pi * frequency[i] * dv
                }
                dx?[j] += sum
            }
            if let dx { for i in 0..<passThrough { dx[c + i] += dout[n * outWidth + values + i] } }
        }
    }

    func flops(batch: Int) -> Double { map.flops(batch: batch, featureGradient: true) }
}

extension PlanBuilder {
    /// The periodic encoding of the first `columns` columns of `input`: `frequencies` learned
    /// frequencies per column drawn from N(0, σ²), sines and cosines, a per-column dense map to
    /// `dimension` values and a ReLU; the other columns follow unchanged.
    public func periodicEncoding(_ input: Tensor, columns: Int, frequencies: Int, sigma: Float, dimension: Int,
                                 initialization: WeightScheme, name: String) -> Tensor {
        precondition(input.shape.count == 1 && columns <= input.sampleSize)
        let passThrough = input.sampleSize - columns
        let frequencyParameter = parameter("\(name).frequencies", [columns, frequencies], .normal(std: sigma))
        let map = columnwiseDense(columns: columns, features: 2 * frequencies, units: dimension,
                                  initialization: initialization, name: name)
        let output = tensor([columns * dimension + passThrough])
        add(PeriodicEncodingOp(input: input, output: output, frequencies: frequencyParameter, map: map,
                               features: scratch(maxBatch * columns * 2 * frequencies),
                               dFeatures: scratch(maxBatch * columns * 2 * frequencies)))
        return output
    }
}

import Foundation
