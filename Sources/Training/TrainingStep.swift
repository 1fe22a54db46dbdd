import Engine

/// One optimisation step on the batch already in the model's input tensors: forward,
/// backward, then the seam where data-parallel training will all-reduce gradients, then
/// clipping and the optimiser. Allocates nothing.
public struct TrainingStep {
    public let model: CompiledModel
    public let optimizer: any Optimizer
    public let clipNorm: Float?

    public init(model: CompiledModel, optimizer: any Optimizer, clipNorm: Float?) {
        self.model = model
        self.optimizer = optimizer
        self.clipNorm = clipNorm
    }

    public func run(batch: Int, learningRate: Float) {
        model.plan.forward(batch: batch, mode: .training)
        model.plan.backward(batch: batch)
        if let clipNorm { GradientClipping.clip(model.plan, maxNorm: clipNorm) }
        optimizer.step(learningRate: learningRate)
    }
}
