/// A batch split into parts that are computed apart and in step, one by each process of a
/// data-parallel training, as the ops that need more than their own part see it: batchnorm's
/// statistics in training, the loss balancers' losses and gradient norms. The engine knows
/// nothing of processes: Training implements this with its process group.
///
/// Every part calls `sum` at the same points of each training pass, in the same order and with
/// as many values, whatever its own rows hold: an op calls it in training passes only, and
/// decides to from what every part knows alike (its parameters and state, the rows every part
/// keeps together), never from its own part's values.
public protocol BatchParts: AnyObject {
    /// Whether this part adds the terms that belong to the batch rather than to any of its rows
    /// (uncertainty weighting's regulariser): exactly one part does, so that the parts'
    /// gradients, summed, hold them once.
    var addsBatchTerms: Bool { get }
    /// Sums `count` floats element by element over every part, in place: every part gets the
    /// same sums.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// Sums `count` doubles element by element over every part, in place.
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int)
}

/// An op whose training pass changes when the batch is split into parts: it sums over them
/// what it needs of the whole batch.
protocol SplitBatchOp: Op {
    var parts: (any BatchParts)? { get set }
}

extension Plan {
    /// Splits every training pass's batch into `parts`, this plan computing one of them: the
    /// ops that need the whole batch (batchnorm in training, loss balancers) take their sums over
    /// all parts. Call before the first pass; evaluation passes are not split.
    public func splitBatches(into parts: any BatchParts) {
        for case let op as any SplitBatchOp in ops { op.parts = parts }
    }
}
