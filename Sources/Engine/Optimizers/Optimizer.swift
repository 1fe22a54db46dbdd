/// Updates a plan's parameters from their gradients. State (momentum, moments) lives in flat
/// buffers laid out like the parameter block, allocated once when the optimiser is made.
///
/// Training calls, per step: forward, backward, then (the one seam where data-parallel
/// training will reduce gradients across processes) `GradientClipping`, then `step`.
public protocol Optimizer: AnyObject {
    /// One update at `learningRate` (before each group's scale); frozen groups are skipped.
    func step(learningRate: Float)
    /// Updates taken so far.
    var steps: Int { get }
}

extension Plan {
    /// Calls `body` with each trainable parameter's offset in the block, value count and
    /// learning rate after its group's scale.
    @inline(__always)
    func forEachTrainable(learningRate: Float, _ body: (_ offset: Int, _ count: Int, _ rate: Float) -> Void) {
        for parameter in parameters where !parameter.frozen {
            body(parameter.offset, parameter.count, learningRate * groups[parameter.group].learningRateScale)
        }
    }
}
