import Engine

/// Where data-parallel training combines what its processes computed on their parts of a
/// batch: before forward, the rows each task's mask keeps (so that every loss is a share of the
/// mean over the whole batch), and between backward and the optimiser, the gradients, on the
/// plan's one contiguous gradient block.
public protocol GradientReduction {
    /// Tells the losses how many rows they keep over all parts of the batch, whose first
    /// `batch` samples are this process's part.
    func countRows(batch: Int)
    func reduce(_ plan: Plan)
}

/// One process has the whole batch: its losses and gradients are already the batch's.
public struct OneProcess: GradientReduction {
    public init() {}
    public func countRows(batch: Int) {}
    public func reduce(_ plan: Plan) {}
}

/// One optimisation step on the batch already in the model's input tensors, as llm.c's loop
/// reads: forward, backward, reduce the gradients across processes, clip, update. Allocates
/// nothing.
public struct TrainingStep {
    public let model: CompiledModel
    public let optimizer: any Optimizer
    public let clipNorm: Float?
    public let reduction: any GradientReduction

    public init(model: CompiledModel, optimizer: any Optimizer, clipNorm: Float?,
                reduction: any GradientReduction = OneProcess()) {
        self.model = model
        self.optimizer = optimizer
        self.clipNorm = clipNorm
        self.reduction = reduction
    }

    /// `batch`: the samples of this process's part.
    public func run(batch: Int, learningRate: Float) {
        reduction.countRows(batch: batch)
        model.plan.forward(batch: batch, mode: .training)
        model.plan.backward(batch: batch)
        reduction.reduce(model.plan)
        if let clipNorm { GradientClipping.clip(model.plan, maxNorm: clipNorm) }
        optimizer.step(learningRate: learningRate)
    }
}
