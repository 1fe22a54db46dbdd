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
    /// Normal with mean 0 and this standard deviation.
    case normal(std: Float)
    /// Uniform in [−limit, limit).
    case uniform(limit: Float)
    case constant(Float)
}

/// The rule that sets a layer's first weights from its fan-in and fan-out: the flow's `init:`.
/// Fan-in is the number of inputs each output reads (a conv's window k·k·c), fan-out the number
/// of outputs each input feeds (a conv's k·k·filters).
public enum WeightScheme: String, Sendable, CaseIterable {
    /// He (Kaiming) normal: std √(2 / fanIn), the variance a ReLU halves restored; biases 0.
    case he
    /// Glorot (Xavier) uniform: ±√(6 / (fanIn + fanOut)); biases 0.
    case glorot
    /// LeCun normal: std √(1 / fanIn); biases 0.
    case lecun
    /// PyTorch's default for `nn.Linear` and `nn.Conv2d` (Kaiming uniform with a = √5):
    /// weights and biases uniform in ±1 / √fanIn.
    case torch

    /// The distribution of a weight with this fan-in and fan-out.
    public func weight(fanIn: Int, fanOut: Int) -> Initialization {
        let fanIn = Float(max(fanIn, 1)), fanOut = Float(max(fanOut, 1))
        return switch self {
        case .he: .normal(std: (2 / fanIn).squareRoot())
        case .glorot: .uniform(limit: (6 / (fanIn + fanOut)).squareRoot())
        case .lecun: .normal(std: (1 / fanIn).squareRoot())
        case .torch: .uniform(limit: 1 / fanIn.squareRoot())
        }
    }

    /// The distribution of the bias of a layer with this fan-in.
    public func bias(fanIn: Int) -> Initialization {
        self == .torch ? .uniform(limit: 1 / Float(max(fanIn, 1)).squareRoot()) : .constant(0)
    }

    /// The distribution of an embedding table's rows. A table is a dense layer over a one-hot
    /// vector, so its fan-in is 1 and its fan-out `dimension`; `torch` is `nn.Embedding`'s N(0, 1).
    public func embedding(dimension: Int) -> Initialization {
        self == .torch ? .normal(std: 1) : weight(fanIn: 1, fanOut: dimension)
    }
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
