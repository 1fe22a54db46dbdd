import Engine
import FileFormats
import ProcessGroups

/// One layer measured on one training step: what it passed on, and its weight's gradient, size
/// and change. docs/training.md ("Diagnostics") says what each tells and what is healthy.
public struct LayerStatistics: Sendable, Equatable {
    /// The run directory's file of every epoch's statistics, one per line.
    public static let fileName = "diagnostics.csv"
    public static let header = ["epoch", "layer", "statistic", "value"]

    public var layer: String
    /// Over every value of the layer's output in the batch (after its activation).
    public var activationMean: Double
    public var activationStandardDeviation: Double
    /// The share of those values that are exactly zero: after a ReLU, the units that are off.
    public var zeroFraction: Double
    /// ‖W‖₂ of the weight after the step.
    public var weightNorm: Double
    /// ‖∂L/∂W‖₂ of the step, as the optimiser used it (after clipping); nil for a frozen layer.
    public var gradientNorm: Double?
    /// ‖ΔW‖₂ / ‖W‖₂: how far the step moved the weight, relative to the weight before it; nil
    /// for a frozen layer (and for a weight that was all zeros).
    public var updateRatio: Double?
    public var activations: Histogram
    public var weights: Histogram
    /// Nil for a frozen layer.
    public var gradients: Histogram?

    /// The statistics by their names in `diagnostics.csv` and TensorBoard, in that order; those
    /// a frozen layer does not have are left out.
    public var values: [(name: String, value: Double)] {
        var values = [("activation_mean", activationMean), ("activation_std", activationStandardDeviation),
                      ("zero_fraction", zeroFraction)]
        if let gradientNorm { values.append(("gradient_norm", gradientNorm)) }
        values.append(("weight_norm", weightNorm))
        if let updateRatio { values.append(("update_ratio", updateRatio)) }
        return values
    }

    /// The histograms by their TensorBoard names.
    public var histograms: [(name: String, histogram: Histogram)] {
        [("activations", activations), ("weights", weights)] + (gradients.map { [("gradients", $0)] } ?? [])
    }
}

/// Measures every watched layer of a model on one training step: `snapshot` copies the weights
/// before the step, `measure` reads the activations, gradients and weights after it. The copy
/// goes to a buffer allocated once, so the measured step allocates only the results.
///
/// With several processes, each holding part of the batch, every process's outputs are gathered
/// and the first measures the whole batch's, as one process would (the gradients and weights
/// are the same on every process already).
public final class LayerMonitor {
    public let model: CompiledModel
    private let processes: any ProcessGroup
    /// The trainable parameters (the start of the parameter block) as they were before the step.
    private let before: UnsafeMutablePointer<Float>
    private let trainableCount: Int

    public init(model: CompiledModel, processes: any ProcessGroup = SingleProcess()) {
        self.model = model
        self.processes = processes
        trainableCount = model.plan.trainableCount
        before = .allocate(capacity: max(trainableCount, 1))
        before.initialize(repeating: 0, count: max(trainableCount, 1))
    }

    deinit { before.deallocate() }

    /// Call before the step to be measured: parameters change only in the optimiser's step, so
    /// they are the values that step starts from.
    public func snapshot() {
        before.update(from: model.plan.values, count: trainableCount)
    }

    /// Every watched layer after a step on `batch` rows (forward, backward and the optimiser;
    /// after `snapshot`); with several processes, the whole batch's on the first and nothing on
    /// the others, which all take part.
    public func measure(batch: Int) -> [LayerStatistics] {
        model.layers.compactMap { layer in
            let part = UnsafeBufferPointer(layer.output.values(batch: batch))
            guard processes.size > 1 else { return measure(layer, output: part) }
            // Every process's part, in rank order: the batch's rows, in another order than one
            // process's, which the statistics do not depend on but for float rounding.
            let whole = processes.allgather(Array(part))
            return processes.isFirst ? whole.withUnsafeBufferPointer { measure(layer, output: $0) } : nil
        }
    }

    /// One layer, from its output over the batch.
    private func measure(_ layer: WatchedLayer, output: UnsafeBufferPointer<Float>) -> LayerStatistics {
        var sum = 0.0, zeros = 0
        for value in output {
            sum += Double(value)
            if value == 0 { zeros += 1 }
        }
        let n = Double(max(output.count, 1))
        let mean = sum / n
        var deviations = 0.0  // a second pass: exact where E[x²] − mean² would cancel
        for value in output { deviations += (Double(value) - mean) * (Double(value) - mean) }
        let weight = layer.weight
        let weights = UnsafeBufferPointer(start: weight.value, count: weight.count)
        var statistics = LayerStatistics(
            layer: layer.name, activationMean: mean,
            activationStandardDeviation: (deviations / n).squareRoot(),
            zeroFraction: Double(zeros) / n, weightNorm: Self.norm(weights), gradientNorm: nil, updateRatio: nil,
            activations: Histogram(output), weights: Histogram(weights), gradients: nil)
        if !weight.frozen {
            let gradients = UnsafeBufferPointer(start: weight.grad, count: weight.count)
            statistics.gradientNorm = Self.norm(gradients)
            statistics.gradients = Histogram(gradients)
            let previous = UnsafeBufferPointer(start: before + weight.offset, count: weight.count)
            var change = 0.0
            for i in 0..<weight.count {
                let delta = Double(weights[i]) - Double(previous[i])
                change += delta * delta
            }
            let previousNorm = Self.norm(previous)
            statistics.updateRatio = previousNorm > 0 ? change.squareRoot() / previousNorm : nil
        }
        return statistics
    }

    /// ‖x‖₂, summed in double precision.
    static func norm(_ values: UnsafeBufferPointer<Float>) -> Double {
        var sum = 0.0
        for value in values { sum += Double(value) * Double(value) }
        return sum.squareRoot()
    }
}
