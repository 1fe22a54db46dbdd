import FileFormats
import FlowSpec
import Foundation

/// The layers of a trunk branch or a task head as ONNX nodes, computing what the engine's ops
/// compute in evaluation mode, with the weights `ModelCompiler` names
/// `<prefix>.<index>.<layer>.weight` (a residual block's shortcut under
/// `<prefix>.<index>.residual.shortcut.`). Dropout is the identity; batchnorm uses its running
/// statistics.
struct ONNXLayers {
    let graph: ONNXGraphBuilder
    let weights: ExportedWeights

    /// `layers` applied in order to `input`; `padding` is the input's when it is the positions
    /// of a tokens input.
    func apply(_ layers: [Layer], to input: ExportedValue, padding: ExportedPadding?, prefix: String) throws(Problem)
        -> ExportedValue {
        var x = input
        for (index, layer) in layers.enumerated() {
            let name = "\(prefix).\(index).\(LayerDescription.name(layer.kind))"
            x = try apply(layer, to: x, padding: padding, name: name)
        }
        return x
    }

    private func apply(_ layer: Layer, to x: ExportedValue, padding: ExportedPadding?, name: String) throws(Problem)
        -> ExportedValue {
        switch layer.kind {
        case let .dense(units, bias, _):
            return try dense(x, units: units, bias: bias, name: name)
        case let .conv(filters, kernel, stride, padding, bias, _):
            return try conv(x, filters: filters, kernel: kernel, stride: stride, padding: padding, bias: bias, name: name, layer)
        case let .maxpool(size, stride, padding):
            return try pool("MaxPool", x, size: size, stride: stride, padding: padding, name: name, layer)
        case let .avgpool(size, stride):
            return try pool("AveragePool", x, size: size, stride: stride, padding: 0, name: name, layer)
        case .globalAvgpool:
            return try globalAveragePool(x, name: name, layer)
        case .relu: return elementwise(x) { graph.add("Relu", [$0], name) }
        case .leakyRelu(let slope):
            return elementwise(x) { graph.add("LeakyRelu", [$0], name, [("alpha", .float(Float(slope)))]) }
        case .tanh: return elementwise(x) { graph.add("Tanh", [$0], name) }
        case .sigmoid: return elementwise(x) { graph.add("Sigmoid", [$0], name) }
        case .gelu: return elementwise(x) { gelu($0, name: name) }
        case .dropout: return x
        case let .batchnorm(_, epsilon):
            return try batchNorm(x, epsilon: Float(epsilon), name: name, layer)
        case .layernorm(let epsilon):
            return try layerNorm(x, epsilon: Float(epsilon), name: name, layer)
        case .flatten: return graph.flatten(x)
        case .embedding: return try embedding(x, name: name)
        case .positional, .conv1d, .attention, .transformer, .pool:
            return try sequenceLayer(layer, x, name: name, padding: padding)
        case let .residual(inner, nil):
            let body = try apply(inner, to: x, padding: padding, prefix: name)
            let aligned = graph.sameLayout(body, as: x)
            var sum = x
            sum.name = graph.add("Add", [x.name, aligned.name], name)
            return sum
        case let .residual(inner, shortcut?):
            // block(x) + shortcut(x), in the block's layout; the engine adds the block first.
            let body = try apply(inner, to: x, padding: padding, prefix: name)
            let projected = graph.sameLayout(try apply(shortcut, to: x, padding: padding, prefix: "\(name).shortcut"),
                                             as: body)
            var sum = body
            sum.name = graph.add("Add", [body.name, projected.name], name)
            return sum
        }
    }

    /// An activation: the same shape and layout.
    private func elementwise(_ x: ExportedValue, _ node: (String) -> String) -> ExportedValue {
        var x = graph.float(x)
        x.name = node(x.name)
        return x
    }

    /// out = x · Wᵀ + b over the last axis; W is (O, I) as the engine and PyTorch store it. A
    /// vector per sample is one Gemm with transB; a sequence or an image (every position) a
    /// MatMul with Wᵀ stored.
    func dense(_ x: ExportedValue, units: Int, bias: Bool, name: String) throws(Problem) -> ExportedValue {
        let weight = try weights("\(name).weight")
        let b = bias ? try weights("\(name).bias") : nil
        let x = graph.channelsLast(graph.float(x))
        let features = x.shape.last ?? 0
        var out = ExportedValue(name: "", shape: Array(x.shape.dropLast()) + [units])
        if x.shape.count == 1 {
            let inputs = [x.name, graph.constant("\(name).weight", weight.values, shape: weight.shape)]
                + (b.map { [graph.constant("\(name).bias", $0.values, shape: $0.shape)] } ?? [])
            out.name = graph.add("Gemm", inputs, name, [("transB", .integer(1))])
        } else {
            var transposed = [Float](repeating: 0, count: weight.values.count)
            for o in 0..<units { for i in 0..<features { transposed[i * units + o] = weight.values[o * features + i] } }
            let product = graph.add("MatMul", [x.name, graph.constant("\(name).weight_t", transposed, shape: [features, units])],
                                    b == nil ? name : "\(name).product")
            out.name = b.map { graph.add("Add", [product, graph.constant("\(name).bias", $0.values, shape: $0.shape)], name) }
                ?? product
        }
        return out
    }

    /// The engine's weights are (F, K, K, C), ONNX's (F, C, K, K); padding `same` puts the odd
    /// pixel after, as the engine does. Without a bias, Conv takes two inputs.
    private func conv(_ x: ExportedValue, filters: Int, kernel k: Int, stride: Int, padding: Padding, bias: Bool,
                      name: String, _ layer: Layer) throws(Problem) -> ExportedValue {
        guard x.isImage else { throw notImage(x, layer) }
        let (h, w, c) = (x.shape[0], x.shape[1], x.shape[2])
        let weight = try weights("\(name).weight"), b = bias ? try weights("\(name).bias") : nil
        var reordered = [Float](repeating: 0, count: weight.values.count)
        for f in 0..<filters {
            for ky in 0..<k {
                for kx in 0..<k {
                    for ch in 0..<c {
                        reordered[((f * c + ch) * k + ky) * k + kx] = weight.values[((f * k + ky) * k + kx) * c + ch]
                    }
                }
            }
        }
        let oh: Int, ow: Int, pads: [Int64]
        switch padding {
        case .same:
            (oh, ow) = ((h + stride - 1) / stride, (w + stride - 1) / stride)
            let padH = max((oh - 1) * stride + k - h, 0), padW = max((ow - 1) * stride + k - w, 0)
            pads = [padH / 2, padW / 2, padH - padH / 2, padW - padW / 2].map(Int64.init)
        case .zeros(let p):
            (oh, ow) = ((h + 2 * p - k) / stride + 1, (w + 2 * p - k) / stride + 1)
            pads = [Int64](repeating: Int64(p), count: 4)
        }
        let input = graph.channelsFirst(graph.float(x))
        let inputs = [input.name, graph.constant("\(name).weight", reordered, shape: [filters, c, k, k])]
            + (b.map { [graph.constant("\(name).bias", $0.values, shape: $0.shape)] } ?? [])
        let out = graph.add("Conv", inputs, name,
                            [("kernel_shape", .integers([Int64(k), Int64(k)])),
                             ("strides", .integers([Int64(stride), Int64(stride)])), ("pads", .integers(pads))])
        return ExportedValue(name: out, shape: [oh, ow, filters], channelsFirst: true)
    }

    /// Windows with `padding` on each side (MaxPool pads with −∞, as the engine does; average
    /// pooling has none); the last partial window dropped (floor), as the engine does.
    private func pool(_ op: String, _ x: ExportedValue, size: Int, stride: Int, padding: Int, name: String,
                      _ layer: Layer) throws(Problem) -> ExportedValue {
        guard x.isImage else { throw notImage(x, layer) }
        let input = graph.channelsFirst(graph.float(x))
        var attributes: [(name: String, value: ONNXAttribute)] = [
            ("kernel_shape", .integers([Int64(size), Int64(size)])), ("strides", .integers([Int64(stride), Int64(stride)])),
        ]
        if padding > 0 { attributes.append(("pads", .integers([Int64](repeating: Int64(padding), count: 4)))) }
        let out = graph.add(op, [input.name], name, attributes)
        let side = { (length: Int) in (length + 2 * padding - size) / stride + 1 }
        return ExportedValue(name: out, shape: [side(x.shape[0]), side(x.shape[1]), x.shape[2]], channelsFirst: true)
    }

    /// The mean over every position per channel: an image's H × W, or a sequence's L.
    private func globalAveragePool(_ x: ExportedValue, name: String, _ layer: Layer) throws(Problem) -> ExportedValue {
        let positionsLast: String
        switch x.shape.count {
        case 3: positionsLast = graph.channelsFirst(graph.float(x)).name
        case 2: positionsLast = graph.add("Transpose", [graph.float(x).name], "\(name).channels_first", [("perm", .integers([0, 2, 1]))])
        default:
            throw Problem("cannot export '\(LayerDescription.name(layer.kind))' here: it averages over the positions "
                          + "of an image or a sequence, and its input is a vector", at: layer.location)
        }
        let pooled = graph.add("GlobalAveragePool", [positionsLast], "\(name).pooled")
        let channels = x.shape.last ?? 0
        return ExportedValue(name: graph.add("Flatten", [pooled], name, [("axis", .integer(1))]), shape: [channels])
    }

    /// Evaluation mode: (x − running_mean) / √(running_var + ε) · weight + bias, per channel.
    private func batchNorm(_ x: ExportedValue, epsilon: Float, name: String, _ layer: Layer) throws(Problem) -> ExportedValue {
        guard x.shape.count == 1 || x.isImage else {
            throw Problem("cannot export 'batchnorm' over a sequence yet: ONNX normalises the second axis, the engine "
                          + "the last", at: layer.location)
        }
        let parameters = try ["weight", "bias", "running_mean", "running_var"].map { part throws(Problem) in
            let tensor = try weights("\(name).\(part)")
            return graph.constant("\(name).\(part)", tensor.values, shape: tensor.shape)
        }
        var input = graph.channelsFirst(graph.float(x))
        input.name = graph.add("BatchNormalization", [input.name] + parameters, name, [("epsilon", .float(epsilon))])
        return input
    }

    /// Over the last axis (an image's channels at each pixel); ai.onnx 17's LayerNormalization.
    func layerNorm(_ x: ExportedValue, epsilon: Float, name: String, _ layer: Layer) throws(Problem) -> ExportedValue {
        guard graph.opset >= 17 else {
            throw Problem("cannot export 'layernorm' at opset \(graph.opset): LayerNormalization needs opset 17 or later",
                          at: layer.location, hint: "export with --opset 17")
        }
        let weight = try weights("\(name).weight"), bias = try weights("\(name).bias")
        var input = graph.channelsLast(graph.float(x))
        input.name = graph.add("LayerNormalization", [input.name, graph.constant("\(name).weight", weight.values, shape: weight.shape),
                                                      graph.constant("\(name).bias", bias.values, shape: bias.shape)], name,
                               [("axis", .integer(-1)), ("epsilon", .float(epsilon))])
        return input
    }

    /// Rows of the table at each id (token ids arrive as int64).
    private func embedding(_ x: ExportedValue, name: String) throws(Problem) -> ExportedValue {
        let table = try weights("\(name).weight")
        var ids = graph.channelsLast(x)
        if ids.elementType != .int64 {
            ids.name = graph.add("Cast", [graph.add("Round", [ids.name], "\(name).rounded")], "\(name).ids",
                                 [("to", .integer(ONNXElementType.int64.rawValue))])
        }
        let out = graph.add("Gather", [graph.constant("\(name).weight", table.values, shape: table.shape), ids.name], name,
                            [("axis", .integer(0))])
        return ExportedValue(name: out, shape: x.shape + [table.shape.last ?? 0])
    }

    /// GELU with the tanh approximation, as the engine computes it:
    /// ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))).
    func gelu(_ x: String, name: String) -> String {
        let cube = graph.add("Mul", [graph.add("Mul", [x, x], "\(name).square"), x], "\(name).cube")
        let inner = graph.add("Add", [x, graph.add("Mul", [cube, graph.scalar(0.044715, "\(name).c")], "\(name).cubic")],
                              "\(name).inner")
        let t = graph.add("Tanh", [graph.add("Mul", [inner, graph.scalar((2 / Float.pi).squareRoot(), "\(name).scale")],
                                             "\(name).scaled")], "\(name).tanh")
        let half = graph.add("Mul", [x, graph.scalar(0.5, "\(name).half")], "\(name).half_x")
        return graph.add("Mul", [half, graph.add("Add", [t, graph.scalar(1, "\(name).one")], "\(name).one_plus")], name)
    }

    private func notImage(_ x: ExportedValue, _ layer: Layer) -> Problem {
        Problem("cannot export '\(LayerDescription.name(layer.kind))' on a value of shape \(x.shape): it reads an image "
                + "(height × width × channels)", at: layer.location)
    }
}
