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
        case .positional: "positional"
        case .conv1d: "conv1d"
        case .attention: "attention"
        case .transformer: "transformer"
        case .pool: "pool"
        }
    }

    /// The layer with its settings: `conv 16, kernel 5, stride 2`.
    public static func summary(_ kind: Layer.Kind) -> String {
        switch kind {
        case let .dense(units, bias, initialization):
            "dense \(units)" + (bias ? "" : ", no bias") + initText(initialization)
        case let .conv(filters, kernel, stride, padding, bias, initialization):
            "conv \(filters), kernel \(kernel)" + (stride == 1 ? "" : ", stride \(stride)")
                + (padding == .same ? ", padding same" : padding == .zeros(0) ? "" : ", padding \(padding.zeros)")
                + (bias ? "" : ", no bias") + initText(initialization)
        case let .maxpool(size, stride, padding):
            "maxpool \(size)" + (stride == size ? "" : ", stride \(stride)") + (padding == 0 ? "" : ", padding \(padding)")
        case let .avgpool(size, stride):
            "avgpool \(size)" + (stride == size ? "" : ", stride \(stride)")
        case .residual(_, shortcut: .some): "residual with shortcut"
        case .leakyRelu(let slope): "leaky_relu \(slope)"
        case .dropout(let rate): "dropout \(rate)"
        case let .embedding(dimension, initialization): "embedding \(dimension)" + initText(initialization)
        case let .conv1d(filters, kernel, dilation, bias, initialization):
            "conv1d \(filters), kernel \(kernel)" + (dilation == 1 ? "" : ", dilation \(dilation)") + (bias ? "" : ", no bias")
                + initText(initialization)
        case let .attention(heads, initialization): "attention, \(heads) heads" + initText(initialization)
        case let .transformer(heads, hidden, dropout, initialization):
            "transformer, \(heads) heads" + (hidden.map { ", hidden \($0)" } ?? "") + ", dropout \(dropout)"
                + initText(initialization)
        case .pool(let mode): "pool \(mode.rawValue)"
        case .positional(let initialization): "positional" + initText(initialization)
        default: name(kind)
        }
    }

    private static func initText(_ initialization: WeightInit?) -> String {
        initialization.map { ", init \($0.rawValue)" } ?? ""
    }
}

private extension Padding {
    var zeros: Int {
        if case .zeros(let count) = self { return count }
        return 0
    }
}
