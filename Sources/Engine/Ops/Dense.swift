import CBLAS

// Dense (fully connected) layer, PyTorch's layout: weight is (O, I), so that
// out = inp · weightᵀ + bias is one sgemm with the transpose flag, and no copy.

/// out (N, O) = inp (N, I) · weightᵀ + bias (O); N is batch × positions.
func denseForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                  _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ n: Int, _ i: Int, _ o: Int) {
    var beta: Float = 0
    if let bias {
        for row in 0..<n { (out + row * o).update(from: bias, count: o) }
        beta = 1
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(o), Int32(i),
                1, inp, Int32(i), weight, Int32(i), beta, out, Int32(o))
}

/// dinp (N, I) += dout · weight; dweight (O, I) += doutᵀ · inp; dbias (O) += Σ rows of dout.
func denseBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                   _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                   _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ n: Int, _ i: Int, _ o: Int) {
    if let dinp {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(i), Int32(o),
                    1, dout, Int32(o), weight, Int32(i), 1, dinp, Int32(i))
    }
    if let dweight {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(o), Int32(i), Int32(n),
                    1, dout, Int32(o), inp, Int32(i), 1, dweight, Int32(i))
    }
    if let dbias {
        for row in 0..<n {
            let d = dout + row * o
            for j in 0..<o { dbias[j] += d[j] }
        }
    }
}

/// A dense layer over the last axis: a vector, or every position of a sequence.
final class DenseOp: Op {
    let input: Tensor, output: Tensor
    let weight: Parameter, bias: Parameter?
    let positions: Int, inFeatures: Int, outFeatures: Int

    init(input: Tensor, output: Tensor, weight: Parameter, bias: Parameter?) {
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        inFeatures = input.shape.last!
        outFeatures = output.shape.last!
        positions = input.sampleSize / inFeatures
    }

    func forward(batch: Int, mode: PassMode) {
        denseForward(output.data, input.data, weight.value, bias?.value, batch * positions, inFeatures, outFeatures)
    }

    func backward(batch: Int) {
        denseBackward(input.grad, weight.frozen ? nil : weight.grad, bias.flatMap { $0.frozen ? nil : $0.grad },
                      output.grad!, input.data, weight.value, batch * positions, inFeatures, outFeatures)
    }

    func flops(batch: Int) -> Double {
        let products = Double(batch * positions) * Double(inFeatures) * Double(outFeatures)
        return 2 * products * (input.grad == nil ? 2 : 3)
    }
}

extension PlanBuilder {
    /// A dense layer of `units` outputs over the last axis of `input`.
    /// Weights start He-initialised when a ReLU-like activation follows (`forReLU`), else Glorot.
    public func dense(_ input: Tensor, units: Int, bias: Bool = true, forReLU: Bool = false, name: String) -> Tensor {
        let features = input.shape.last!
        let weight = parameter("\(name).weight", [units, features],
                               forReLU ? .he(fanIn: features) : .glorot(fanIn: features, fanOut: units))
        let biasParameter = bias ? parameter("\(name).bias", [units], .constant(0)) : nil
        let output = tensor(Array(input.shape.dropLast()) + [units])
        add(DenseOp(input: input, output: output, weight: weight, bias: biasParameter))
        return output
    }
}
