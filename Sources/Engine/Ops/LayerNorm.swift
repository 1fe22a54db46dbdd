import Foundation

// Layer normalisation over the last axis (llm.c's layernorm_forward / layernorm_backward).

/// out = (inp − mean) · rstd · weight + bias per row of C; saves mean and rstd per row.
func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                      _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                      _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ rows: Int, _ c: Int,
                      _ epsilon: Float) {
    for r in 0..<rows {
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

/// dinp += rstd · (g − mean(g) − x̂ · mean(g · x̂)) with g = dout · weight;
/// dweight += Σ dout · x̂; dbias += Σ dout.
func layerNormBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                       _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                       _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ mean: UnsafePointer<Float>,
                       _ rstd: UnsafePointer<Float>, _ rows: Int, _ c: Int) {
    for r in 0..<rows {
        let x = inp + r * c, d = dout + r * c
        let m = mean[r], s = rstd[r]
        var gMean: Float = 0, gxMean: Float = 0
        for i in 0..<c {
            let xhat = (x[i] - m) * s
            let g = d[i] * weight[i]
            gMean += g
            gxMean += g * xhat
        }
        gMean /= Float(c)
        gxMean /= Float(c)
        for i in 0..<c {
            let xhat = (x[i] - m) * s
            dweight?[i] += d[i] * xhat
            dbias?[i] += d[i]
            if let dinp { dinp[r * c + i] += (d[i] * weight[i] - gMean - xhat * gxMean) * s }
        }
    }
}

final class LayerNormOp: Op {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter, bias: Parameter
    let mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    let features: Int, positions: Int
    let epsilon: Float

    init(input: Tensor, output: Tensor, weight: Parameter, bias: Parameter, mean: UnsafeMutablePointer<Float>,
         rstd: UnsafeMutablePointer<Float>, epsilon: Float) {
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        self.mean = mean
        self.rstd = rstd
        self.epsilon = epsilon
        features = input.shape.last!
        positions = input.sampleSize / features
    }

    func forward(batch: Int, mode: PassMode) {
        layerNormForward(output.data, mean, rstd, input.data, weight.value, bias.value, batch * positions, features,
                         epsilon)
    }

    func backward(batch: Int) {
        layerNormBackward(input.grad, weight.frozen ? nil : weight.grad, bias.frozen ? nil : bias.grad, output.grad!,
                          input.data, weight.value, mean, rstd, batch * positions, features)
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
                        rstd: scratch(rows), epsilon: epsilon))
        return output
    }
}
