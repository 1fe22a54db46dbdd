import Engine
import FlowSpec

/// The engine's optimiser and schedule for a flow's `train:` settings.
public enum OptimizerFactory {
    public static func optimizer(for plan: Plan, settings: OptimizerSettings) -> any Optimizer {
        switch settings.name {
        case .sgd:
            SGD(plan: plan, momentum: Float(settings.momentum), nesterov: settings.nesterov,
                weightDecay: Float(settings.weightDecay))
        case .adam, .adamw:
            Adam(plan: plan, beta1: Float(settings.betas.0), beta2: Float(settings.betas.1),
                 weightDecay: Float(settings.weightDecay), decoupled: settings.name == .adamw)
        }
    }

    /// The schedule over `epochs` (the flow's, or `train --epochs`).
    public static func schedule(for settings: TrainingSettings, epochs: Int) -> LearningRateSchedule {
        let shape: LearningRateSchedule.Shape = switch settings.schedule.kind {
        case .constant: .constant
        case let .step(stepSize, gamma): .step(stepSize: stepSize ?? max(1, epochs / 3), gamma: Float(gamma))
        case .cosine(let minimum): .cosine(minimumFactor: Float(minimum))
        case .cooldown(let fraction): .cooldown(fraction: Float(fraction))
        }
        return LearningRateSchedule(base: Float(settings.optimizer.learningRate), shape: shape,
                                    warmupEpochs: settings.schedule.warmupEpochs, epochs: epochs)
    }
}
