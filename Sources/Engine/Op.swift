/// Whether a pass trains (dropout drops, batchnorm uses batch statistics) or evaluates.
public enum PassMode: Sendable {
    case training
    case evaluation
}

/// One step of a compiled plan. Its tensors and parameters are bound when the plan is built;
/// a pass only says how many samples the batch has.
///
/// `backward` accumulates (`+=`) into input gradients: a tensor read by several ops gets the
/// sum of their contributions. The plan zeroes gradients once before each backward pass,
/// except those an op assigns (`GradientAssigning`).
public protocol Op: AnyObject {
    /// The tensors whose gradients `backward` may write: what the plan counts to know which
    /// gradients have a single writer.
    var inputs: [Tensor] { get }
    func forward(batch: Int, mode: PassMode)
    func backward(batch: Int)
    /// Floating-point operations of one forward plus backward pass (a multiply-add is two),
    /// for `bench`'s GFLOP/s.
    func flops(batch: Int) -> Double
}

extension Op {
    public func flops(batch: Int) -> Double { 0 }
}

/// An op that can write its input's gradient with `=` instead of `+=` when it is the only op
/// that writes it: the plan then need not zero that gradient before backward, which saves a
/// pass over memory as large as the activations. The plan decides when building.
protocol GradientAssigning: Op {
    var input: Tensor { get }
    var assignsInputGradient: Bool { get set }
    /// Whether this op's backward writes every element of its input's gradient, so that it can
    /// assign them all (max pooling only when its windows tile the image).
    var canAssignInputGradient: Bool { get }
}

extension GradientAssigning {
    var canAssignInputGradient: Bool { true }
}
