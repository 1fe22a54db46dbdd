/// Updates a plan's parameters from their gradients. State (momentum, moments) lives in flat
/// buffers laid out like the parameter block, allocated once when the optimiser is made.
///
/// Training calls, per step: forward, backward, then (the one seam where data-parallel
/// training will reduce gradients across processes) `GradientClipping`, then `step`.
public protocol Optimizer: AnyObject {
    /// One update at `learningRate` (before each group's scale); frozen groups are skipped.
    func step(learningRate: Float)
    /// Updates taken so far (set when a run resumes from a checkpoint).
    var steps: Int { get set }
    /// The optimiser's state buffers (moments, velocity), each laid out like the trainable
    /// part of the parameter block (`plan.trainableCount` floats), by name: what a checkpoint
    /// saves. Frozen parameters have none.
    var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] { get }
    /// Whether every gradient the last `step` read was finite. Checked in the update's own
    /// pass over the gradients, so that a diverging run is caught without a pass of its own.
    var gradientsWereFinite: Bool { get }
}

/// The exponent bits of a float: all ones exactly for infinities and NaNs. Their maximum over a
/// loop is an integer reduction, which the compiler vectorises (a float sum would not be).
@inline(__always)
func exponentBits(_ x: Float) -> UInt32 { x.bitPattern & 0x7F80_0000 }

/// `exponentBits` of a NaN or an infinity.
let nonFiniteExponent: UInt32 = 0x7F80_0000

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
