import FileFormats

/// A plain interpreter of the ONNX operators the exporter's decoding and gating use, written
/// from the operator definitions (onnx/docs/Operators.md): what `make test` runs an exported
/// graph with, where ONNX Runtime is not available. Values are held as doubles; float
/// operations round to float32 after each step, as a float32 kernel does.
struct ReferenceEvaluator {
    struct Value: Equatable {
        var shape: [Int]
        var values: [Double]
        var type: ONNXElementType

        func at(_ index: [Int]) -> Double {
            var flat = 0
            for (i, dimension) in zip(index, shape) { flat = flat * dimension + i }
            return values[flat]
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case unsupported(String), missing(String)
        var description: String {
            switch self {
            case .unsupported(let op): "the reference evaluator has no \(op)"
            case .missing(let name): "no value named \(name)"
            }
        }
    }

    let graph: ONNXGraph

    /// Every graph output, by name, for `inputs`.
    func run(_ inputs: [String: Value]) throws -> [String: Value] {
        var values = inputs
        for tensor in graph.initializers { values[tensor.name] = Self.value(tensor) }
        for node in graph.nodes {
            let arguments = try node.inputs.map { name -> Value in
                guard let value = values[name] else { throw Failure.missing(name) }
                return value
            }
            values[node.outputs[0]] = try evaluate(node, arguments)
        }
        return try Dictionary(uniqueKeysWithValues: graph.outputs.map { output in
            guard let value = values[output.name] else { throw Failure.missing(output.name) }
            return (output.name, value)
        })
    }

    static func value(_ tensor: ONNXTensor) -> Value {
        let shape = tensor.dimensions.map { Int($0) }
        switch tensor.values {
        case .floats(let v): return Value(shape: shape, values: v.map(Double.init), type: .float)
        case .doubles(let v): return Value(shape: shape, values: v, type: .double)
        case .integers(let v): return Value(shape: shape, values: v.map(Double.init), type: .int64)
        case .booleans(let v): return Value(shape: shape, values: v.map { $0 ? 1 : 0 }, type: .bool)
        case .strings: return Value(shape: shape, values: [], type: .string)
        }
    }

    private func integer(_ node: ONNXNode, _ name: String) -> Int64? {
        for (key, value) in node.attributes where key == name { if case .integer(let i) = value { return i } }
        return nil
    }

    private func round(_ x: Double, _ type: ONNXElementType) -> Double {
        type == .float ? Double(Float(x)) : x
    }

    private func evaluate(_ node: ONNXNode, _ a: [Value]) throws -> Value {
        switch node.operatorType {
        case "Identity": return a[0]
        case "Sigmoid": return map(a[0]) { 1 / (1 + Foundation.exp(-$0)) }
        case "Not": return map(a[0]) { $0 == 0 ? 1 : 0 }
        case "Add": return broadcast(a[0], a[1], a[0].type) { $0 + $1 }
        case "Mul": return broadcast(a[0], a[1], a[0].type) { $0 * $1 }
        case "Div": return broadcast(a[0], a[1], a[0].type) { $0 / $1 }
        case "And": return broadcast(a[0], a[1], .bool) { $0 != 0 && $1 != 0 ? 1 : 0 }
        case "Or": return broadcast(a[0], a[1], .bool) { $0 != 0 || $1 != 0 ? 1 : 0 }
        case "Equal": return broadcast(a[0], a[1], .bool) { $0 == $1 ? 1 : 0 }
        case "GreaterOrEqual": return broadcast(a[0], a[1], .bool) { $0 >= $1 ? 1 : 0 }
        case "Cast":
            let type = ONNXElementType(rawValue: integer(node, "to") ?? 0) ?? .float
            var result = map(a[0]) { $0 }
            result.type = type
            result.values = result.values.map { round($0, type) }
            return result
        case "Reshape":
            var shape = a[1].values.map { Int($0) }
            if let unknown = shape.firstIndex(of: -1) {
                shape[unknown] = a[0].values.count / shape.enumerated().reduce(1) { $0 * ($1.offset == unknown ? 1 : $1.element) }
            }
            return Value(shape: shape, values: a[0].values, type: a[0].type)
        case "Softmax", "ArgMax":
            return lastAxis(node, a[0])
        case "Shape": return Value(shape: [a[0].shape.count], values: a[0].shape.map(Double.init), type: .int64)
        case "Slice":
            let start = Int(a[1].values[0]), end = min(Int(a[2].values[0]), a[0].values.count)
            return Value(shape: [end - start], values: Array(a[0].values[start..<end]), type: a[0].type)
        case "ConstantOfShape":
            guard case .tensor(let fill)? = node.attributes.first(where: { $0.name == "value" })?.value else {
                throw Failure.unsupported("ConstantOfShape without value")
            }
            let v = Self.value(fill)
            let shape = a[0].values.map { Int($0) }
            return Value(shape: shape, values: [Double](repeating: v.values[0], count: shape.reduce(1, *)), type: v.type)
        default:
            throw Failure.unsupported(node.operatorType)
        }
    }

    private func map(_ x: Value, _ f: (Double) -> Double) -> Value {
        Value(shape: x.shape, values: x.values.map { round(f($0), x.type) }, type: x.type)
    }

    /// NumPy-style broadcasting of two values.
    private func broadcast(_ x: Value, _ y: Value, _ type: ONNXElementType, _ f: (Double, Double) -> Double) -> Value {
        let rank = max(x.shape.count, y.shape.count)
        let xs = [Int](repeating: 1, count: rank - x.shape.count) + x.shape
        let ys = [Int](repeating: 1, count: rank - y.shape.count) + y.shape
        let shape = zip(xs, ys).map { max($0, $1) }
        let count = shape.reduce(1, *)
        var values = [Double](repeating: 0, count: count)
        for flat in 0..<count {
            var rest = flat, xi = 0, yi = 0, xStride = 1, yStride = 1
            for axis in (0..<rank).reversed() {
                let i = rest % shape[axis]
                rest /= shape[axis]
                if xs[axis] > 1 { xi += i * xStride }
                if ys[axis] > 1 { yi += i * yStride }
                xStride *= xs[axis]
                yStride *= ys[axis]
            }
            values[flat] = round(f(x.values[xi], y.values[yi]), type)
        }
        return Value(shape: shape, values: values, type: type)
    }

    /// Softmax or ArgMax (first index of the largest, keepdims 0) over the last axis.
    private func lastAxis(_ node: ONNXNode, _ x: Value) -> Value {
        let width = x.shape.last ?? 1, rows = x.values.count / max(width, 1)
        var values: [Double] = []
        for r in 0..<rows {
            let row = Array(x.values[(r * width)..<((r + 1) * width)])
            if node.operatorType == "ArgMax" {
                var best = 0
                for i in row.indices where row[i] > row[best] { best = i }
                values.append(Double(best))
            } else {
                let top = row.max() ?? 0
                let exps = row.map { Double(Float(Foundation.exp($0 - top))) }
                let sum = exps.reduce(0, +)
                values += exps.map { Double(Float($0 / sum)) }
            }
        }
        return node.operatorType == "ArgMax"
            ? Value(shape: Array(x.shape.dropLast()), values: values, type: .int64)
            : Value(shape: x.shape, values: values, type: x.type)
    }
}

import Foundation
