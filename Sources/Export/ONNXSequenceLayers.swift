import FileFormats
import FlowSpec

/// The padding of a tokens input in the graph, as the engine's `SequenceMask.keep`: float
/// (N, L), 1 where the id is not 0. Made by the first layer that needs it, so that a graph
/// without sequence layers has no node of it.
final class ExportedPadding {
    private let ids: String
    private var keep: String?
    private var expanded: String?

    init(ids: String) { self.ids = ids }

    /// keep (N, L).
    func keep(_ graph: ONNXGraphBuilder) -> String {
        if let keep { return keep }
        let isPadding = graph.add("Equal", [ids, graph.integers("padding_id", [0], shape: [])], "\(ids).is_padding")
        let made = graph.add("Cast", [graph.add("Not", [isPadding], "\(ids).is_token")], "\(ids).keep",
                             [("to", .integer(ONNXElementType.float.rawValue))])
        keep = made
        return made
    }

    /// keep (N, L, 1), which multiplies a sequence (N, L, D) position by position.
    func keepPositions(_ graph: ONNXGraphBuilder) -> String {
        if let expanded { return expanded }
        let made = graph.add("Unsqueeze", [keep(graph), graph.integers("axis_2", [2])], "\(ids).keep_positions")
        expanded = made
        return made
    }
}

/// The sequence layers as ONNX nodes, computing what the engine's ops compute (docs/engine.md,
/// "Sequences and padding"): padding read as zeros by conv1d, masked out of attention's keys
/// and of the pools, and zero at the outputs of conv1d and attention.
extension ONNXLayers {
    func sequenceLayer(_ layer: Layer, _ x: ExportedValue, name: String, padding: ExportedPadding?) throws(Problem) -> ExportedValue {
        guard x.shape.count == 2, let padding else {
            throw Problem("cannot export '\(LayerDescription.name(layer.kind))' on a value of shape \(x.shape): it reads "
                          + "the positions of a tokens input", at: layer.location)
        }
        let x = graph.float(x)
        switch layer.kind {
        case .positional:
            let table = try weights("\(name).weight")
            var out = x
            out.name = graph.add("Add", [x.name, graph.constant("\(name).weight", table.values, shape: table.shape)], name)
            return out
        case let .conv1d(filters, kernel, dilation, bias, _):
            return try conv1d(x, filters: filters, kernel: kernel, dilation: dilation, bias: bias, padding: padding, name: name)
        case .attention(let heads, _):
            return try attention(x, heads: heads, padding: padding, name: name)
        case let .transformer(heads, hidden, _, _):
            return try transformer(x, heads: heads, hidden: hidden ?? 4 * x.shape[1], padding: padding, name: name, layer)
        case .pool(let mode):
            return pool(x, mode: mode, padding: padding, name: name)
        default:
            throw Problem("cannot export '\(LayerDescription.name(layer.kind))' as a sequence layer", at: layer.location)
        }
    }

    /// Padding zeroed, then Conv over (N, C, L) with the engine's (F, K, C) weights as (F, C, K)
    /// and its padding (dilation · (K − 1) / 2 before, the rest after); outputs at padding zeroed.
    private func conv1d(_ x: ExportedValue, filters: Int, kernel: Int, dilation: Int, bias: Bool, padding: ExportedPadding,
                        name: String) throws(Problem) -> ExportedValue {
        let (length, channels) = (x.shape[0], x.shape[1])
        let weight = try weights("\(name).weight"), b = bias ? try weights("\(name).bias") : nil
        var reordered = [Float](repeating: 0, count: weight.values.count)
        for f in 0..<filters {
            for k in 0..<kernel {
                for c in 0..<channels { reordered[(f * channels + c) * kernel + k] = weight.values[(f * kernel + k) * channels + c] }
            }
        }
        let keep = padding.keepPositions(graph)
        let masked = graph.add("Mul", [x.name, keep], "\(name).masked")
        let channelsFirst = graph.add("Transpose", [masked], "\(name).channels_first", [("perm", .integers([0, 2, 1]))])
        let before = dilation * (kernel - 1) / 2, after = dilation * (kernel - 1) - before
        let inputs = [channelsFirst, graph.constant("\(name).weight", reordered, shape: [filters, channels, kernel])]
            + (b.map { [graph.constant("\(name).bias", $0.values, shape: $0.shape)] } ?? [])
        let convolved = graph.add("Conv", inputs, "\(name).conv",
                                  [("kernel_shape", .integers([Int64(kernel)])), ("dilations", .integers([Int64(dilation)])),
                                   ("pads", .integers([Int64(before), Int64(after)]))])
        let positionsFirst = graph.add("Transpose", [convolved], "\(name).positions_first", [("perm", .integers([0, 2, 1]))])
        return ExportedValue(name: graph.add("Mul", [positionsFirst, keep], name), shape: [length, filters])
    }

    /// The engine's attention: one projection to queries, keys and values, per head
    /// softmax(q·kᵀ / √Dh) with padded keys at the lowest float (so a row with no key is finite,
    /// and its query, padding itself, is zeroed at the end), the weighted values, the output
    /// projection, padded positions zeroed.
    func attention(_ x: ExportedValue, heads: Int, padding: ExportedPadding, name: String) throws(Problem) -> ExportedValue {
        let (length, d) = (x.shape[0], x.shape[1])
        let dh = d / heads
        let qkv = try dense(x, units: 3 * d, bias: true, name: "\(name).qkv")
        /// Part `index` (queries, keys, values) as (N, H, L, Dh), or (N, H, Dh, L) with `keysLast`.
        func part(_ index: Int, _ label: String, transposed: Bool = false) -> String {
            let slice = graph.add("Slice", [qkv.name, graph.integers("\(name).\(label).start", [Int64(index * d)]),
                                            graph.integers("\(name).\(label).end", [Int64((index + 1) * d)]),
                                            graph.integers("axis_2", [2])], "\(name).\(label)")
            let split = graph.add("Reshape", [slice, graph.integers("\(name).heads_shape", [-1, Int64(length), Int64(heads), Int64(dh)])],
                                  "\(name).\(label).heads")
            return graph.add("Transpose", [split], "\(name).\(label).by_head",
                             [("perm", .integers(transposed ? [0, 2, 3, 1] : [0, 2, 1, 3]))])
        }
        let (q, k, v) = (part(0, "queries"), part(1, "keys", transposed: true), part(2, "values"))
        let scores = graph.add("Mul", [graph.add("MatMul", [q, k], "\(name).products"),
                                       graph.scalar(1 / Float(dh).squareRoot(), "\(name).scale")], "\(name).scores")
        let keys = graph.add("Cast", [graph.add("Unsqueeze", [padding.keep(graph), graph.integers("axes_1_2", [1, 2])],
                                                "\(name).key_keep")],
                             "\(name).key_is_token", [("to", .integer(ONNXElementType.bool.rawValue))])
        let masked = graph.add("Where", [keys, scores, graph.scalar(-Float.greatestFiniteMagnitude, "lowest")],
                               "\(name).masked_scores")
        let weights = graph.add("Softmax", [masked], "\(name).weights", [("axis", .integer(-1))])
        let context = graph.add("Transpose", [graph.add("MatMul", [weights, v], "\(name).weighted")], "\(name).by_position",
                                [("perm", .integers([0, 2, 1, 3]))])
        let joined = ExportedValue(name: graph.add("Reshape", [context, graph.integers("\(name).shape", [-1, Int64(length), Int64(d)])],
                                                   "\(name).context"), shape: [length, d])
        var out = try dense(joined, units: d, bias: true, name: "\(name).out")
        out.name = graph.add("Mul", [out.name, padding.keepPositions(graph)], name)
        return out
    }

    /// x + attention(layernorm(x)), then + linear2(gelu(linear1(layernorm(x)))); dropout is the
    /// identity.
    private func transformer(_ x: ExportedValue, heads: Int, hidden: Int, padding: ExportedPadding, name: String,
                             _ layer: Layer) throws(Problem) -> ExportedValue {
        guard graph.opset >= 17 else {
            throw Problem("cannot export 'transformer' at opset \(graph.opset): its layernorms need LayerNormalization, "
                          + "opset 17 or later", at: layer.location, hint: "export with --opset 17")
        }
        let attended = try attention(try layerNorm(x, epsilon: 1e-5, name: "\(name).norm1", layer), heads: heads,
                                     padding: padding, name: "\(name).attention")
        var first = x
        first.name = graph.add("Add", [x.name, attended.name], "\(name).attended")
        var h = try dense(try layerNorm(first, epsilon: 1e-5, name: "\(name).norm2", layer), units: hidden, bias: true,
                          name: "\(name).linear1")
        h.name = gelu(h.name, name: "\(name).gelu")
        let fed = try dense(h, units: x.shape[1], bias: true, name: "\(name).linear2")
        var out = first
        out.name = graph.add("Add", [first.name, fed.name], name)
        return out
    }

    /// Mean, max (−∞ at padding, then 0 for a text without tokens) or position 0, over the
    /// positions that hold tokens.
    private func pool(_ x: ExportedValue, mode: SequencePooling, padding: ExportedPadding, name: String) -> ExportedValue {
        let features = x.shape[1]
        let keep = padding.keepPositions(graph)
        let axis = graph.integers("axis_1", [1])
        let count = graph.add("ReduceSum", [padding.keep(graph), axis], "\(name).count", [("keepdims", .integer(1))])
        let out: String
        switch mode {
        case .mean:
            let sum = graph.add("ReduceSum", [graph.add("Mul", [x.name, keep], "\(name).masked"), axis], "\(name).sum",
                                [("keepdims", .integer(0))])
            out = graph.add("Div", [sum, graph.add("Max", [count, graph.scalar(1, "one")], "\(name).divisor")], name)
        case .max:
            let isToken = graph.add("Cast", [keep], "\(name).is_token", [("to", .integer(ONNXElementType.bool.rawValue))])
            let filled = graph.add("Where", [isToken, x.name, graph.scalar(-.infinity, "minus_infinity")], "\(name).filled")
            let largest = graph.opset >= 18
                ? graph.add("ReduceMax", [filled, axis], "\(name).largest", [("keepdims", .integer(0))])
                : graph.add("ReduceMax", [filled], "\(name).largest", [("axes", .integers([1])), ("keepdims", .integer(0))])
            let any = graph.add("Greater", [count, graph.scalar(0, "zero")], "\(name).any")
            out = graph.add("Where", [any, largest, graph.scalar(0, "zero")], name)
        case .first:
            let start = graph.integers("start_0", [0]), end = graph.integers("end_1", [1])
            let firstPosition = graph.add("Squeeze", [graph.add("Slice", [x.name, start, end, axis], "\(name).slice"), axis],
                                          "\(name).first")
            let kept = graph.add("Slice", [padding.keep(graph), start, end, axis], "\(name).first_keep")
            out = graph.add("Mul", [firstPosition, kept], name)
        }
        return ExportedValue(name: out, shape: [features])
    }
}
