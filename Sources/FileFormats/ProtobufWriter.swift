/// Protocol buffers' wire format, the little of it ONNX files need: varints, 32-bit floats,
/// length-delimited bytes, strings and nested messages. A message is built field by field in
/// the order written; a nested message is built in a writer of its own and written with its
/// length in front (protobuf knows no end marker).
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// The wire types this writer uses.
    enum WireType: UInt64 {
        case varint = 0, fixed32 = 5, lengthDelimited = 2
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    /// An `int64`, `int32` or enum field: negative values take ten bytes, as protobuf
    /// sign-extends them to 64 bits.
    public mutating func integer(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> shift)) }
    }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    /// A nested message, as `build` writes it.
    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        bytes(field, nested.bytes)
    }
}
