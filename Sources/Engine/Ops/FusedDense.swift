// Several dense layers that read the same input — the output layers of the heads on one trunk
// branch, or the first hidden layers of their heads — computed as one matrix product. Their
// weights are declared one after another, so in the parameter block they are the rows of one
// stacked (ΣO, I) matrix, and their biases one vector: each keeps its own name and shape in
// `model.safetensors`. One product over ΣO columns replaces one per layer, and the input's
// gradient is written once instead of once per layer.

/// outs (N, O_t) for every layer t from one product into `fused` (N, ΣO); backward gathers the
/// outputs' gradients into `fused` and runs the transposed products once.
final class FusedDenseOp: GradientAssigning {
    let input: Tensor
    var inputs: [Tensor] { [input] }
    let outputs: [Tensor]
    let weights: [Parameter], biases: [Parameter]
    let units: [Int], offsets: [Int], total: Int, inFeatures: Int
    /// (maxBatch, ΣO): the stacked outputs in forward, their gradients in backward.
    let fused: UnsafeMutablePointer<Float>
    let product: MatrixProduct
    var assignsInputGradient = false
    let biasGradient: BiasGradient

    init(pool: ThreadPool, input: Tensor, outputs: [Tensor], weights: [Parameter], biases: [Parameter],
         fused: UnsafeMutablePointer<Float>) {
        biasGradient = BiasGradient(pool: pool)
        self.input = input
        self.outputs = outputs
        self.weights = weights
        self.biases = biases
        self.fused = fused
        product = MatrixProduct(pool: pool)
        let units = outputs.map(\.sampleSize)
        self.units = units
        offsets = units.indices.map { t in units[..<t].reduce(0, +) }
        total = units.reduce(0, +)
        inFeatures = input.sampleSize
    }

    /// The stacked weights and biases: contiguous because they were declared in a row.
    private var weight: UnsafeMutablePointer<Float> { weights[0].value }
    private var bias: UnsafeMutablePointer<Float> { biases[0].value }

    func forward(batch: Int, mode: PassMode) {
        let (total, i) = (total, inFeatures)
        product(transB: true, m: batch, n: total, k: i, input.data, lda: i, weight, ldb: i, beta: 0, fused, ldc: total,
                bias: bias)
        for (t, out) in outputs.enumerated() {
            let (u, offset) = (units[t], offsets[t])
            for row in 0..<batch { (out.data + row * u).update(from: fused + row * total + offset, count: u) }
        }
    }

    func backward(batch: Int) {
        let (total, i) = (total, inFeatures)
        for (t, out) in outputs.enumerated() {
            let (u, offset) = (units[t], offsets[t]), grad = out.grad!
            for row in 0..<batch { (fused + row * total + offset).update(from: grad + row * u, count: u) }
        }
        if let dinp = input.grad {
            product(m: batch, n: i, k: total, fused, lda: total, weight, ldb: i, beta: assignsInputGradient ? 0 : 1,
                    dinp, ldc: i)
        }
        guard !weights[0].frozen else { return }
        product(transA: true, m: total, n: i, k: batch, fused, lda: total, input.data, ldb: i, beta: 1,
                weights[0].grad, ldc: i)
        biasGradient(rows: batch, columns: total, output: fused, gradient: fused, bias: biases[0].grad, relu: false)
    }

    func flops(batch: Int) -> Double {
        // Forward, the input's gradient when it has one, the weights' when they are trainable.
        let passes = Double(1 + (input.grad == nil ? 0 : 1) + (weights[0].frozen ? 0 : 1))
        return 2 * Double(batch) * Double(inFeatures) * Double(total) * passes
    }
}

extension PlanBuilder {
    /// Dense layers of `units[t]` outputs (with bias) over the same `input`, named `names[t]`,
    /// as one product; returns each layer's output. Layer t's weights and bias start as
    /// `initialization[t]` draws them.
    public func denseGroup(_ input: Tensor, units: [Int], initialization: [WeightScheme], names: [String]) -> [Tensor] {
        let features = input.shape.last!
        precondition(input.sampleSize == features, "a dense group reads one vector per sample")
        let weights = units.indices.map { t in
            parameter("\(names[t]).weight", [units[t], features], initialization[t].weight(fanIn: features, fanOut: units[t]))
        }
        let biases = units.indices.map { t in
            parameter("\(names[t]).bias", [units[t]], initialization[t].bias(fanIn: features))
        }
        let outputs = units.map { tensor([$0]) }
        add(FusedDenseOp(pool: pool, input: input, outputs: outputs, weights: weights, biases: biases,
                         fused: scratch(maxBatch * units.reduce(0, +))))
        return outputs
    }
}
