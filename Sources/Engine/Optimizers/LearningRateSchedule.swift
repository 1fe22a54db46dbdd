import Foundation

/// The learning rate over training: an optional linear warm-up from 0, then a constant, step,
/// cosine or cool-down schedule over the remaining epochs. Fractional epochs (step / steps per
/// epoch) make warm-up, cosine and cool-down smooth within an epoch; step decay changes at epoch
/// boundaries.
public struct LearningRateSchedule: Sendable, Equatable {
    /// The schedule after warm-up.
    public enum Shape: Sendable, Equatable {
        case constant
        /// × gamma every `stepSize` epochs.
        case step(stepSize: Int, gamma: Float)
        /// Cosine from the base rate down to minimumFactor × base at the last epoch.
        case cosine(minimumFactor: Float)
        /// The base rate, then linear down to 0 over the last `fraction` of the epochs after
        /// warm-up ("warmup-stable-decay", Hägele et al., 2024).
        case cooldown(fraction: Float)
    }

    public var base: Float
    public var shape: Shape
    public var warmupEpochs: Int
    public var epochs: Int

    public init(base: Float, shape: Shape = .constant, warmupEpochs: Int = 0, epochs: Int) {
        self.base = base
        self.shape = shape
        self.warmupEpochs = warmupEpochs
        self.epochs = epochs
    }

    /// The rate at `step` (0-based) of `epoch` (0-based).
    public func rate(epoch: Int, step: Int, stepsPerEpoch: Int) -> Float {
        let progress = Double(epoch) + Double(step) / Double(max(stepsPerEpoch, 1))
        if Double(warmupEpochs) > progress {
            // Linear from base / (warm-up steps) at the first step up to base.
            let total = Double(warmupEpochs * max(stepsPerEpoch, 1))
            let done = Double(epoch * max(stepsPerEpoch, 1) + step + 1)
            return base * Float(done / total)
        }
        switch shape {
        case .constant:
            return base
        case let .step(stepSize, gamma):
            return base * Float(pow(Double(gamma), Double((epoch - warmupEpochs) / stepSize)))
        case .cosine(let minimumFactor):
            let span = Double(max(epochs - warmupEpochs, 1))
            let t = min((progress - Double(warmupEpochs)) / span, 1)
            let factor = Double(minimumFactor) + (1 - Double(minimumFactor)) * 0.5 * (1 + cos(Double.pi * t))
            return base * Float(factor)
        case .cooldown(let fraction):
            let span = Double(max(epochs - warmupEpochs, 1))
            let remaining = 1 - min((progress - Double(warmupEpochs)) / span, 1)
            return base * Float(min(1, remaining / Double(fraction)))
        }
    }
}
