// Dense (fully connected) layer, PyTorch's layout: weight is (O, I), so that
// out = inp · weightᵀ + bias is one sgemm with the transpose flag, and no copy.

/// A dense layer over the last axis: a vector, or every position of a sequence.
final class DenseOp: GradientAssigning {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let weight: Parameter, bias: Parameter?
    let positions: Int, inFeatures: Int, outFeatures: Int
    let product: MatrixProduct
    var assignsInputGradient = false
    /// The ReLU that follows, fused: the output is max(x·Wᵀ + b, 0), made while the product's
    /// band is in cache, and backward masks the gradient by output > 0 first.
    let relu: Bool
    let biasGradient: BiasGradient

    init(pool: ThreadPool, input: Tensor, output: Tensor, weight: Parameter, bias: Parameter?, relu: Bool) {
        product = MatrixProduct(pool: pool)
        biasGradient = BiasGradient(pool: pool)
        self.relu = relu
        self.input = input
        self.output = output
        self.weight = weight
        self.bias = bias
        inFeatures = input.shape.last!
        outFeatures = output.shape.last!
        positions = input.sampleSize / inFeatures
    }

    /// out (N, O) = inp (N, I) · weightᵀ + bias (O); N is batch × positions.
    func forward(batch: Int, mode: PassMode) {
        let (n, i, o, out) = (batch * positions, inFeatures, outFeatures, output.data)
        product(transB: true, m: n, n: o, k: i, input.data, lda: i, weight.value, ldb: i, beta: 0, out, ldc: o,
                bias: bias.map { UnsafePointer($0.value) }, relu: relu)
    }

    /// dinp (N, I) += dout · weight; dweight (O, I) += doutᵀ · inp; dbias (O) += Σ rows of dout.
    func backward(batch: Int) {
        let (n, i, o, dout) = (batch * positions, inFeatures, outFeatures, output.grad!)
        // The ReLU's backward in place (this op alone reads its output's gradient), in the same
        // pass as the bias gradient.
        let biasGrad = bias.flatMap { $0.frozen ? nil : $0.grad }
        biasGradient(rows: n, columns: o, output: output.data, gradient: dout, bias: biasGrad, relu: relu)
        if let dinp = input.grad {
            product(m: n, n: i, k: o, dout, lda: o, weight.value, ldb: i, beta: assignsInputGradient ? 0 : 1, dinp,
                    ldc: i)
        }
        if !weight.frozen {
            product(transA: true, m: o, n: i, k: n, dout, lda: o, input.data, ldb: i, beta: 1, weight.grad, ldc: i)
        }
    }

    func flops(batch: Int) -> Double {
        let products = Double(batch * positions) * Double(inFeatures) * Double(outFeatures)
        // Forward, the input's gradient when it has one, the weights' when they are trainable.
        let passes = Double(1 + (input.grad == nil ? 0 : 1) + (weight.frozen ? 0 : 1))
        return 2 * products * passes
    }
}

extension PlanBuilder {
    /// A dense layer of `units` outputs over the last axis of `input`.
    /// Weights and bias start as `initialization` draws them (fan-in: the input's width).
    /// With `relu`, the ReLU after it is part of the op (one pass over the output fewer each
    /// way); only the activated output is then available.
    public func dense(_ input: Tensor, units: Int, bias: Bool = true, initialization: WeightScheme = .glorot,
                      relu: Bool = false, name: String) -> Tensor {
        let features = input.shape.last!
        let weight = parameter("\(name).weight", [units, features],
                               initialization.weight(fanIn: features, fanOut: units))
        let biasParameter = bias ? parameter("\(name).bias", [units], initialization.bias(fanIn: features)) : nil
        let output = tensor(Array(input.shape.dropLast()) + [units])
        add(DenseOp(pool: pool, input: input, output: output, weight: weight, bias: biasParameter, relu: relu))
        return output
    }
}
