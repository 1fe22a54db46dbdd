/// An ONNX model as `onnx.proto` lays it out (IR version 8 for opset 17), and its bytes: the
/// graph's nodes, weights (initializers), inputs and outputs with their types, the operator
/// sets it uses, and `metadata_props`. Field numbers are onnx.proto's; only what an exporter of
/// a feed-forward graph needs is here.
public struct ONNXModel {
    public var irVersion: Int64 = 8
    /// (domain, version): "" is the default ONNX domain, "ai.onnx.ml" the classical-ML one.
    public var operatorSets: [(domain: String, version: Int64)] = [("", 17)]
    public var producerName = "flowtrain"
    public var producerVersion = ""
    public var graph: ONNXGraph
    public var metadata: [(key: String, value: String)] = []

    public init(graph: ONNXGraph) { self.graph = graph }

    /// The model file's bytes.
    public func serialized() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.integer(1, irVersion)
        writer.string(2, producerName)
        writer.string(3, producerVersion)
        writer.message(7, graph.write)
        for (domain, version) in operatorSets {
            writer.message(8) { set in
                set.string(1, domain)
                set.integer(2, version)
            }
        }
        for (key, value) in metadata {
            writer.message(14) { entry in
                entry.string(1, key)
                entry.string(2, value)
            }
        }
        return writer.bytes
    }
}

/// A graph: nodes in topological order, named weights, and typed inputs and outputs.
public struct ONNXGraph {
    public var name: String
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []

    public init(name: String) { self.name = name }

    func write(_ writer: inout ProtobufWriter) {
        for node in nodes { writer.message(1, node.write) }
        writer.string(2, name)
        for tensor in initializers { writer.message(5, tensor.write) }
        for input in inputs { writer.message(11, input.write) }
        for output in outputs { writer.message(12, output.write) }
    }
}

/// One operator applied to named values.
public struct ONNXNode {
    public var operatorType: String
    public var domain = ""
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [(name: String, value: ONNXAttribute)] = []

    public init(_ operatorType: String, name: String, inputs: [String], outputs: [String], domain: String = "",
                attributes: [(name: String, value: ONNXAttribute)] = []) {
        (self.operatorType, self.name, self.inputs, self.outputs) = (operatorType, name, inputs, outputs)
        (self.domain, self.attributes) = (domain, attributes)
    }

    func write(_ writer: inout ProtobufWriter) {
        for input in inputs { writer.string(1, input) }
        for output in outputs { writer.string(2, output) }
        writer.string(3, name)
        writer.string(4, operatorType)
        for (name, value) in attributes { writer.message(5) { value.write(name: name, &$0) } }
        if !domain.isEmpty { writer.string(7, domain) }
    }
}

/// A node's attribute value, with the `AttributeType` onnx.proto gives each kind.
public enum ONNXAttribute {
    case float(Float), integer(Int64), string(String), tensor(ONNXTensor)
    case floats([Float]), integers([Int64]), strings([String])

    func write(name: String, _ writer: inout ProtobufWriter) {
        writer.string(1, name)
        switch self {
        case .float(let value):
            writer.float(2, value)
            writer.integer(20, 1)
        case .integer(let value):
            writer.integer(3, value)
            writer.integer(20, 2)
        case .string(let value):
            writer.string(4, value)
            writer.integer(20, 3)
        case .tensor(let value):
            writer.message(5, value.write)
            writer.integer(20, 4)
        case .floats(let values):
            for value in values { writer.float(7, value) }
            writer.integer(20, 6)
        case .integers(let values):
            for value in values { writer.integer(8, value) }
            writer.integer(20, 7)
        case .strings(let values):
            for value in values { writer.string(9, value) }
            writer.integer(20, 8)
        }
    }
}

/// ONNX's element types (`TensorProto.DataType`) that flowtrain's graphs use.
public enum ONNXElementType: Int64 {
    case float = 1, uint8 = 2, int32 = 6, int64 = 7, string = 8, bool = 9, double = 11
}

/// A constant tensor: a weight, or a table an operator reads.
public struct ONNXTensor {
    public enum Values {
        case floats([Float]), doubles([Double]), integers([Int64]), strings([String]), booleans([Bool])
    }

    public var name: String
    public var dimensions: [Int64]
    public var values: Values

    public init(name: String, dimensions: [Int64], values: Values) {
        (self.name, self.dimensions, self.values) = (name, dimensions, values)
    }

    public var elementType: ONNXElementType {
        switch values {
        case .floats: .float
        case .doubles: .double
        case .integers: .int64
        case .strings: .string
        case .booleans: .bool
        }
    }

    /// Numbers go in `raw_data`, little-endian and fixed-width as onnx.proto requires; strings
    /// in `string_data`, which raw data cannot hold.
    func write(_ writer: inout ProtobufWriter) {
        for dimension in dimensions { writer.integer(1, dimension) }
        writer.integer(2, elementType.rawValue)
        writer.string(8, name)
        switch values {
        case .floats(let values):
            writer.bytes(9, values.flatMap { littleEndian($0.bitPattern) })
        case .doubles(let values):
            writer.bytes(9, values.flatMap { littleEndian($0.bitPattern) })
        case .integers(let values):
            writer.bytes(9, values.flatMap { littleEndian(UInt64(bitPattern: $0)) })
        case .booleans(let values):
            writer.bytes(9, values.map { $0 ? 1 : 0 })
        case .strings(let values):
            for value in values { writer.string(6, value) }
        }
    }

    private func littleEndian<Word: FixedWidthInteger>(_ word: Word) -> [UInt8] {
        (0..<(Word.bitWidth / 8)).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) }
    }
}

/// A graph input's or output's name, element type and shape; a dimension is a number or a
/// symbol (the batch's `N`).
public struct ONNXValueInfo {
    public enum Dimension {
        case fixed(Int64), symbolic(String)
    }

    public var name: String
    public var elementType: ONNXElementType
    public var shape: [Dimension]

    public init(name: String, elementType: ONNXElementType, shape: [Dimension]) {
        (self.name, self.elementType, self.shape) = (name, elementType, shape)
    }

    func write(_ writer: inout ProtobufWriter) {
        writer.string(1, name)
        writer.message(2) { type in
            type.message(1) { tensor in
                tensor.integer(1, elementType.rawValue)
                tensor.message(2) { shape in
                    for dimension in self.shape {
                        shape.message(1) { dim in
                            switch dimension {
                            case .fixed(let value): dim.integer(1, value)
                            case .symbolic(let name): dim.string(2, name)
                            }
                        }
                    }
                }
            }
        }
    }
}
