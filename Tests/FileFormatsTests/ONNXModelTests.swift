import ProtobufFields
import Testing
@testable import FileFormats

/// The protobuf bytes against hand-encoded ones, and an ONNX model read back field by field by
/// a decoder of the tests' own (`ProtobufFields`, onnx.proto's field numbers).
struct ONNXModelTests {
    @Test func varintsFloatsAndLengthsAreProtobufs() {
        var writer = ProtobufWriter()
        writer.integer(1, 300)
        #expect(writer.bytes == [0x08, 0xAC, 0x02])
        writer = ProtobufWriter()
        writer.integer(2, -1)  // sign-extended to 64 bits: ten bytes
        #expect(writer.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        writer = ProtobufWriter()
        writer.float(2, 1)
        #expect(writer.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
        writer = ProtobufWriter()
        writer.string(4, "Relu")
        #expect(writer.bytes == [0x22, 0x04] + Array("Relu".utf8))
        writer = ProtobufWriter()
        writer.message(7) { $0.integer(1, 150) }
        #expect(writer.bytes == [0x3A, 0x03, 0x08, 0x96, 0x01])
    }

    @Test func aModelReadsBackFieldByField() throws {
        var graph = ONNXGraph(name: "orders")
        graph.inputs = [ONNXValueInfo(name: "basket", elementType: .float, shape: [.symbolic("N"), .fixed(5)])]
        graph.outputs = [ONNXValueInfo(name: "cancelled.activated", elementType: .float, shape: [.symbolic("N"), .fixed(1)])]
        graph.initializers = [ONNXTensor(name: "w", dimensions: [2, 1], values: .floats([0.5, -2])),
                              ONNXTensor(name: "classes", dimensions: [2], values: .strings(["red", "blue"]))]
        graph.nodes = [ONNXNode("Gemm", name: "dense", inputs: ["basket", "w"], outputs: ["z"],
                                attributes: [("transB", .integer(1)), ("alpha", .float(1))]),
                       ONNXNode("LabelEncoder", name: "encode", inputs: ["c"], outputs: ["i"], domain: "ai.onnx.ml",
                                attributes: [("keys_strings", .strings(["red", "blue"]))])]
        var model = ONNXModel(graph: graph)
        model.operatorSets.append(("ai.onnx.ml", 3))
        model.metadata = [("flow", "orders"), ("tasks", "cancelled")]

        let top = try #require(ProtobufFields.decode(model.serialized()))
        #expect(top.first == .varint(1, 8))
        #expect(ProtobufFields.strings(top, 2) == ["flowtrain"])
        let sets = ProtobufFields.messages(top, 8)
        #expect(sets.map { ProtobufFields.strings($0, 1) } == [[""], ["ai.onnx.ml"]])
        #expect(sets.map { $0.last } == [.varint(2, 17), .varint(2, 3)])
        #expect(ProtobufFields.messages(top, 14).map { ProtobufFields.strings($0, 1) + ProtobufFields.strings($0, 2) }
                == [["flow", "orders"], ["tasks", "cancelled"]])

        let graphFields = try #require(ProtobufFields.messages(top, 7).first)
        #expect(ProtobufFields.strings(graphFields, 2) == ["orders"])
        let nodes = ProtobufFields.messages(graphFields, 1)
        #expect(nodes.map { ProtobufFields.strings($0, 4) } == [["Gemm"], ["LabelEncoder"]])
        #expect(ProtobufFields.strings(nodes[0], 1) == ["basket", "w"])
        #expect(ProtobufFields.strings(nodes[1], 7) == ["ai.onnx.ml"])
        let attributes = ProtobufFields.messages(nodes[0], 5)
        #expect(attributes[0] == [.bytes(1, Array("transB".utf8)), .varint(3, 1), .varint(20, 2)])
        #expect(attributes[1] == [.bytes(1, Array("alpha".utf8)), .fixed32(2, Float(1).bitPattern), .varint(20, 1)])
        #expect(ProtobufFields.strings(ProtobufFields.messages(nodes[1], 5)[0], 9) == ["red", "blue"])

        let tensors = ProtobufFields.messages(graphFields, 5)
        #expect(tensors[0].filter { $0.number == 1 } == [.varint(1, 2), .varint(1, 1)])
        #expect(tensors[0].contains(.varint(2, 1)))
        let raw = [Float(0.5), -2].flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> ($0 * 8)) } }
        #expect(tensors[0].contains(.bytes(9, raw)))
        #expect(tensors[1].contains(.varint(2, 8)))
        #expect(ProtobufFields.strings(tensors[1], 6) == ["red", "blue"])

        // Input: name, then TypeProto.tensor_type { elem_type, shape { dim { dim_param }, dim { dim_value } } }.
        let input = try #require(ProtobufFields.messages(graphFields, 11).first)
        #expect(ProtobufFields.strings(input, 1) == ["basket"])
        let type = try #require(ProtobufFields.messages(input, 2).first)
        let tensorType = try #require(ProtobufFields.messages(type, 1).first)
        #expect(tensorType.first == .varint(1, 1))
        let shape = try #require(ProtobufFields.messages(tensorType, 2).first)
        let dims = ProtobufFields.messages(shape, 1)
        #expect(dims == [[.bytes(2, Array("N".utf8))], [.varint(1, 5)]])
        #expect(ProtobufFields.messages(graphFields, 12).map { ProtobufFields.strings($0, 1) } == [["cancelled.activated"]])
    }
}
