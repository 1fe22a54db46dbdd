/// A learned tensor: its values, gradient and optimiser state live in the plan's one parameter
/// block (llm.c's layout), so the optimiser is one flat loop over all of them.
public final class Parameter {
    /// Name as it will appear in `model.safetensors`, e.g. `trunk.common.0.weight`.
    public let name: String
    public let shape: [Int]
    public let count: Int
    public let initialization: Initialization
    /// Index of the parameter group (learning-rate scale, frozen flag).
    public let group: Int
    /// Offset of the first value in the parameter block.
    public internal(set) var offset = 0
    public internal(set) var value: UnsafeMutablePointer<Float>!
    public internal(set) var grad: UnsafeMutablePointer<Float>!
    /// In a frozen group: no gradient is computed for it and the optimiser leaves it alone.
    public internal(set) var frozen = false

    init(name: String, shape: [Int], initialization: Initialization, group: Int) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.initialization = initialization
        self.group = group
    }
}

/// How a parameter's first values are drawn.
public enum Initialization: Sendable, Equatable {
    /// He (Kaiming) normal: std √(2 / fanIn), for weights followed by ReLU-like activations.
    case he(fanIn: Int)
    /// Glorot (Xavier) uniform: ±√(6 / (fanIn + fanOut)), for the rest.
    case glorot(fanIn: Int, fanOut: Int)
    /// Standard normal (embedding tables).
    case normal(std: Float)
    case constant(Float)
}

/// Parameters that share a learning-rate scale and may be frozen (a trunk that does not train).
public struct ParameterGroup: Sendable, Equatable {
    public var name: String
    public var learningRateScale: Float
    public var frozen: Bool

    public init(name: String, learningRateScale: Float = 1, frozen: Bool = false) {
        self.name = name
        self.learningRateScale = learningRateScale
        self.frozen = frozen
    }
}
