import Testing
@testable import Engine

/// An op that is the only writer of its input's gradient assigns it instead of adding to a
/// zeroed buffer: it must then write every element, every step.
struct GradientAssignmentTests {
    /// A net with every assigning op: direct convolutions whose input has a gradient (stride 1:
    /// the flipped kernel; stride 2: scattered), a Winograd convolution,
    /// batchnorm in training and (frozen) evaluation mode, max pooling whose windows tile the
    /// image, and the ones that cannot assign: overlapping pooling, an im2col convolution, and
    /// a tensor read by two ops.
    func build() -> (Plan, [Tensor]) {
        let b = PlanBuilder(maxBatch: 4, pool: ThreadPool(threads: 2))
        let image = b.tensor([8, 8, 3])
        let lifted = b.relu(b.conv2d(image, filters: 8, kernel: 1, name: "lift"))
        var h = b.conv2d(lifted, filters: 8, kernel: 3, stride: 1, padding: .same, bias: false, initialization: .glorot,
                         method: .direct, name: "direct")
        h = b.conv2d(h, filters: 10, kernel: 3, stride: 1, padding: .same, bias: true, initialization: .glorot,
                     method: .winograd, name: "winograd")
        h = b.maxPool(b.relu(b.batchNorm(h, name: "bn")), size: 2, stride: 2)
        h = b.conv2d(h, filters: 12, kernel: 3, stride: 2, padding: .same, bias: true, initialization: .glorot,
                     method: .direct, name: "scattered")
        let overlapping = b.maxPool(h, size: 3, stride: 1, padding: 1)
        h = b.conv2d(overlapping, filters: 20, kernel: 3, stride: 2, padding: .same, bias: true, initialization: .glorot,
                     method: .im2col, name: "im2col")
        let shared = b.relu(h)
        h = b.concat([b.globalAvgPool(shared), b.globalAvgPool(b.tanh(shared))])
        b.project(b.dense(h, units: 4, name: "out"))
        let plan = b.build(seed: 3)
        for i in 0..<(4 * image.sampleSize) { image.data[i] = Float((i * 37) % 101) * 0.02 - 1 }
        return (plan, [image, lifted, overlapping, shared])
    }

    @Test func assigningOpsWriteEveryElementOfTheirGradient() {
        let (plan, _) = build()
        let assigning = plan.ops.compactMap { $0 as? any GradientAssigning }.filter(\.assignsInputGradient)
        let names = Set(assigning.map { "\(type(of: $0))" })
        let inputGradients = assigning.compactMap { ($0 as? Conv2DOp)?.inputGradient }
        #expect(Set(inputGradients) == [.flippedKernel, .scattered, .winograd])
        #expect(names.isSuperset(of: ["Conv2DOp", "BatchNormOp", "MaxPoolOp", "DenseOp", "ActivationOp"]), "\(names)")

        func gradients() -> [Float] {
            plan.forward(batch: 4, mode: .training)
            plan.backward(batch: 4)
            let tensors = plan.ops.flatMap(\.inputs).compactMap { t in t.grad.map { (grad: $0, count: 4 * t.sampleSize) } }
            return tensors.flatMap { t in (0..<t.count).map { t.grad[$0] } } + (0..<plan.parameterCount).map { plan.gradients[$0] }
        }
        let clean = gradients()
        // Garbage where assigned gradients are: the next backward must overwrite all of it.
        for op in assigning {
            let input = op.input
            for i in 0..<(4 * input.sampleSize) { input.grad![i] = .nan }
        }
        let again = gradients()
        #expect(again.count == clean.count && !again.contains { $0.isNaN })
        #expect(again == clean)
    }

    /// Overlapping max pooling, col2im, and a gradient with two writers are zeroed and added to.
    @Test func opsThatCannotAssignAdd() {
        let (plan, tensors) = build()
        let overlapping = tensors[2], shared = tensors[3]
        for op in plan.ops {
            guard let op = op as? any GradientAssigning else { continue }
            if op.input === overlapping || op.input === shared || (op as? MaxPoolOp)?.padding == 1 {
                #expect(!op.assignsInputGradient, "\(type(of: op)) assigns the gradient of \(op.input.shape)")
            }
        }
        let im2col = plan.ops.compactMap { $0 as? Conv2DOp }.first { $0.method == .im2col }
        #expect(im2col?.canAssignInputGradient == false)
        let pooling = plan.ops.compactMap { $0 as? MaxPoolOp }
        #expect(pooling.map(\.canAssignInputGradient) == [true, false])
    }
}
