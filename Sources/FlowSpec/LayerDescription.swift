/// How layers are named and summarised in messages and in `check`'s output.
public enum LayerDescription {
    /// The layer's name as written in a flow file.
    public static func name(_ kind: Layer.Kind) -> String {
        switch kind {
        case .dense: "dense"
        case .conv: "conv"
        case .maxpool: "maxpool"
        case .avgpool: "avgpool"
        case .globalAvgpool: "global_avgpool"
        case .relu: "relu"
        case .leakyRelu: "leaky_relu"
        case .gelu: "gelu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        case .dropout: "dropout"
        case .batchnorm: "batchnorm"
        case .layernorm: "layernorm"
        case .flatten: "flatten"
        case .embedding: "embedding"
        case .residual: "residual"
        }
    }

    /// The layer with its settings: `conv 16, kernel 5, stride 2`.
    public static func summary(_ kind: Layer.Kind) -> String {
        switch kind {
        case let .dense(units, bias): "dense \(units)" + (bias ? "" : ", no bias")
        case let .conv(filters, kernel, stride, padding):
            "conv \(filters), kernel \(kernel)" + (stride == 1 ? "" : ", stride \(stride)")
                + (padding == .same ? ", padding same" : padding == .zeros(0) ? "" : ", padding \(padding.zeros)")
        case let .maxpool(size, stride), let .avgpool(size, stride):
            "\(name(kind)) \(size)" + (stride == size ? "" : ", stride \(stride)")
        case .leakyRelu(let slope): "leaky_relu \(slope)"
        case .dropout(let rate): "dropout \(rate)"
        case .embedding(let dimension): "embedding \(dimension)"
        default: name(kind)
        }
    }
}

private extension Padding {
    var zeros: Int {
        if case .zeros(let count) = self { return count }
        return 0
    }
}
