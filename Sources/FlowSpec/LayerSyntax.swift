/// The argument written after a layer's name: nothing (`relu`), a scalar (`dense: 128`) or a
/// mapping (`conv: {filters: 16, kernel: 5}`), with typed readers that report at the right node.
struct LayerArguments {
    let name: String
    let node: YAMLNode?
    let at: SourceLocation
    let context: String
    let decoder: FlowDecoder

    var sink: DiagnosticSink { decoder.sink }

    /// The argument as a mapping; a scalar is taken as the value of `shorthandKey`.
    /// Nil after an error. No argument at all gives an empty mapping.
    func fields(shorthandKey: String?, takesArguments: Bool = true) -> LayerFields? {
        guard let node, !node.isNull else { return LayerFields(values: [:], reader: nil, context: context, sink: sink, at: at) }
        if case .scalar = node.content {
            guard let shorthandKey else {
                sink.error(takesArguments ? "\(context): expected a mapping of settings, found \(node.kindDescription)"
                                          : "\(context): takes no argument, found \(node.kindDescription)",
                           at: node.location)
                return nil
            }
            return LayerFields(values: [shorthandKey: node], reader: nil, context: context, sink: sink, at: at)
        }
        guard let reader = MappingReader(node, context: context, sink: sink,
                                         expecting: shorthandKey.map { "a number (\($0)) or a mapping" } ?? "a mapping")
        else { return nil }
        return LayerFields(values: [:], reader: reader, context: context, sink: sink, at: at)
    }
}

/// The keys of one layer's argument, read once each; unknown keys are reported by `finish`.
struct LayerFields {
    var values: [String: YAMLNode]
    var reader: MappingReader?
    let context: String
    let sink: DiagnosticSink
    let at: SourceLocation

    mutating func value(_ key: String) -> YAMLNode? {
        if let value = values[key] { return value }
        return reader?.value(key)
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>, default value: Int?) -> Int? {
        guard let node = self.value(key) else {
            if value == nil { markMissing(key) }
            return value
        }
        return node.int("\(context): \(key)", in: range, sink)
    }

    mutating func double(_ key: String, in range: ClosedRange<Double>, exclusiveUpper: Bool = false,
                         exclusiveLower: Bool = false, default value: Double) -> Double? {
        guard let node = self.value(key) else { return value }
        return node.double("\(context): \(key)", in: range, exclusiveLower: exclusiveLower,
                           exclusiveUpper: exclusiveUpper, sink)
    }

    /// `init: he|glorot|lecun|torch`, nil when absent (the flow's `train.init` applies) or wrong.
    mutating func weightInit() -> WeightInit? {
        value("init").flatMap { $0.choice("\(context): init", WeightInit.allCases.map(\.rawValue), sink) }
            .flatMap(WeightInit.init(rawValue:))
    }

    /// A required key is absent: reported by `finish`, unless a misspelt key explains it.
    mutating func markMissing(_ key: String) {
        if reader != nil { reader!.markMissing(key) } else { sink.error("\(context): missing required key '\(key)'", at: at) }
    }

    mutating func finish() { reader?.finish() }
}

/// The layer names of the flow language and how each one's argument is read.
enum LayerSyntax {
    typealias Decode = @Sendable (LayerArguments) -> Layer.Kind?

    static let all: [String: LayerSyntax.Entry] = [
        "dense": Entry { args in
            guard var f = args.fields(shorthandKey: "units") else { return nil }
            let units = f.int("units", in: 1...1_048_576, default: nil)
            let bias = f.value("bias").flatMap { $0.bool("\(args.context): bias", args.sink) } ?? true
            let initialization = f.weightInit()
            f.finish()
            return units.map { .dense(units: $0, bias: bias, initialization: initialization) }
        },
        "conv": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let filters = f.int("filters", in: 1...65536, default: nil)
            let kernel = f.int("kernel", in: 1...1024, default: nil)
            let stride = f.int("stride", in: 1...1024, default: 1)
            var padding: Padding? = .zeros(0)
            if let node = f.value("padding") {
                switch node.scalar {
                case "same": padding = .same
                case "valid": padding = .zeros(0)
                default: padding = node.int("\(args.context): padding (a number, same or valid)", in: 0...1024, args.sink)
                    .map { .zeros($0) }
                }
            }
            let bias = f.value("bias").flatMap { $0.bool("\(args.context): bias", args.sink) } ?? true
            let initialization = f.weightInit()
            f.finish()
            guard let filters, let kernel, let stride, let padding else { return nil }
            return .conv(filters: filters, kernel: kernel, stride: stride, padding: padding, bias: bias,
                         initialization: initialization)
        },
        "maxpool": Entry { args in
            guard var f = args.fields(shorthandKey: "size") else { return nil }
            let window = poolWindow(&f)
            var padding: Int? = 0
            if let node = f.value("padding") {
                padding = node.int("\(args.context): padding", in: 0...1024, args.sink)
                // More would leave windows with no pixel of the image (PyTorch refuses it too).
                if let count = padding, let size = window?.size, count > size / 2 {
                    args.sink.error("\(args.context): padding \(count) is more than half the window (size \(size))",
                                    at: node.location, hint: "use padding \(size / 2) or less")
                    padding = nil
                }
            }
            f.finish()
            guard let window, let padding else { return nil }
            return .maxpool(size: window.size, stride: window.stride, padding: padding)
        },
        "avgpool": Entry { args in
            guard var f = args.fields(shorthandKey: "size") else { return nil }
            let window = poolWindow(&f)
            f.finish()
            return window.map { .avgpool(size: $0.size, stride: $0.stride) }
        },
        "global_avgpool": bare(.globalAvgpool),
        "relu": bare(.relu),
        "gelu": bare(.gelu),
        "tanh": bare(.tanh),
        "sigmoid": bare(.sigmoid),
        "flatten": bare(.flatten),
        "leaky_relu": Entry { args in
            guard var f = args.fields(shorthandKey: "slope") else { return nil }
            let slope = f.double("slope", in: 0...1, exclusiveUpper: true, default: 0.01)
            f.finish()
            return slope.map { .leakyRelu(slope: $0) }
        },
        "dropout": Entry { args in
            guard var f = args.fields(shorthandKey: "rate") else { return nil }
            let rate = f.double("rate", in: 0...1, exclusiveUpper: true, default: 0.5)
            f.finish()
            return rate.map { .dropout(rate: $0) }
        },
        "batchnorm": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let momentum = f.double("momentum", in: 0...1, exclusiveLower: true, default: 0.1)
            let epsilon = f.double("epsilon", in: 0...1, exclusiveLower: true, default: 1e-5)
            f.finish()
            guard let momentum, let epsilon else { return nil }
            return .batchnorm(momentum: momentum, epsilon: epsilon)
        },
        "layernorm": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let epsilon = f.double("epsilon", in: 0...1, exclusiveLower: true, default: 1e-5)
            f.finish()
            return epsilon.map { .layernorm(epsilon: $0) }
        },
        "embedding": Entry { args in
            guard var f = args.fields(shorthandKey: "dimension") else { return nil }
            let dimension = f.int("dimension", in: 1...65536, default: nil)
            let initialization = f.weightInit()
            f.finish()
            return dimension.map { .embedding(dimension: $0, initialization: initialization) }
        },
        "positional": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let initialization = f.weightInit()
            f.finish()
            return .positional(initialization: initialization)
        },
        "conv1d": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let filters = f.int("filters", in: 1...65536, default: nil)
            let kernel = f.int("kernel", in: 1...1024, default: nil)
            let dilation = f.int("dilation", in: 1...1024, default: 1)
            let bias = f.value("bias").flatMap { $0.bool("\(args.context): bias", args.sink) } ?? true
            let initialization = f.weightInit()
            f.finish()
            guard let filters, let kernel, let dilation else { return nil }
            return .conv1d(filters: filters, kernel: kernel, dilation: dilation, bias: bias, initialization: initialization)
        },
        "attention": Entry { args in
            guard var f = args.fields(shorthandKey: "heads") else { return nil }
            let heads = f.int("heads", in: 1...4096, default: nil)
            let initialization = f.weightInit()
            f.finish()
            return heads.map { .attention(heads: $0, initialization: initialization) }
        },
        "transformer": Entry { args in
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let heads = f.int("heads", in: 1...4096, default: nil)
            // Present but wrong is reported; absent means 4 × the features.
            let hiddenNode = f.value("hidden")
            let hidden = hiddenNode.flatMap { $0.int("\(args.context): hidden", in: 1...1_048_576, args.sink) }
            let dropout = f.double("dropout", in: 0...1, exclusiveUpper: true, default: 0.1)
            let initialization = f.weightInit()
            f.finish()
            guard let heads, let dropout, hiddenNode == nil || hidden != nil else { return nil }
            return .transformer(heads: heads, hidden: hidden, dropout: dropout, initialization: initialization)
        },
        "pool": Entry { args in
            guard var f = args.fields(shorthandKey: "mode") else { return nil }
            let mode = f.value("mode").map {
                $0.choice("\(args.context): mode", SequencePooling.allCases.map(\.rawValue), args.sink)
                    .flatMap(SequencePooling.init(rawValue:))
            } ?? .mean
            f.finish()
            return mode.map { .pool($0) }
        },
        "residual": Entry { args in
            // `residual: [layers]`, `residual: {layers: [...]}` or `residual: {layers: [...], shortcut: [...]}`.
            guard let node = args.node, !node.isNull else {
                args.sink.error("\(args.context): needs the layers it wraps, e.g. residual: [dense: 64, relu]", at: args.at)
                return nil
            }
            if case .sequence(let items) = node.content {
                guard !items.isEmpty else {
                    args.sink.error("\(args.context): needs at least one layer to wrap", at: node.location)
                    return nil
                }
                return .residual(args.decoder.decodeLayers(node, context: args.context), shortcut: nil)
            }
            guard var f = args.fields(shorthandKey: nil) else { return nil }
            let layers = f.value("layers"), shortcut = f.value("shortcut")
            if layers == nil { f.markMissing("layers") }
            f.finish()
            guard let layers else { return nil }
            if case .sequence(let items) = layers.content, items.isEmpty {
                args.sink.error("\(args.context): needs at least one layer to wrap", at: layers.location)
                return nil
            }
            let block = args.decoder.decodeLayers(layers, context: args.context)
            guard let shortcut else { return .residual(block, shortcut: nil) }
            if case .sequence(let items) = shortcut.content, items.isEmpty {
                args.sink.error("\(args.context): shortcut: needs at least one layer", at: shortcut.location,
                                hint: "leave shortcut out to add the block's input itself")
                return nil
            }
            return .residual(block, shortcut: args.decoder.decodeLayers(shortcut, context: "\(args.context): shortcut"))
        },
    ]

    /// A layer name with the function that reads its argument.
    struct Entry: Sendable {
        let decode: Decode
        init(_ decode: @escaping Decode) { self.decode = decode }
    }

    /// Layers that take no argument.
    private static func bare(_ kind: Layer.Kind) -> Entry {
        Entry { args in args.fields(shorthandKey: nil, takesArguments: false).map { var f = $0; f.finish(); return kind } }
    }

    /// The window of `maxpool`, `maxpool: 3`, `maxpool: {size: 3, stride: 2}` (avgpool alike);
    /// stride defaults to the size. The caller reads its other keys, then `finish`es.
    private static func poolWindow(_ f: inout LayerFields) -> (size: Int, stride: Int)? {
        let size = f.int("size", in: 1...1024, default: 2)
        let stride = f.int("stride", in: 1...1024, default: size ?? 2)
        guard let size, let stride else { return nil }
        return (size, stride)
    }
}
