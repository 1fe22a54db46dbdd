/// A protobuf decoder of the tests' own, written from the wire format (varints, fixed32,
/// length-delimited fields): what the tests read the ONNX writer's bytes back with.
public enum ProtobufFields {
    /// One decoded field: its number and its value by wire type.
    public enum Field: Equatable {
        case varint(Int, UInt64), fixed32(Int, UInt32), bytes(Int, [UInt8])

        public var number: Int {
            switch self {
            case .varint(let n, _), .fixed32(let n, _), .bytes(let n, _): n
            }
        }
    }

    /// The fields of one message, in order; nil if the bytes are not a well-formed message.
    public static func decode(_ bytes: [UInt8]) -> [Field]? {
        var fields: [Field] = [], i = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count, shift < 64 {
                let byte = bytes[i]
                i += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        while i < bytes.count {
            guard let key = varint() else { return nil }
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                guard let value = varint() else { return nil }
                fields.append(.varint(number, value))
            case 5:
                guard i + 4 <= bytes.count else { return nil }
                fields.append(.fixed32(number, (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << ($1 * 8) }))
                i += 4
            case 2:
                guard let length = varint(), i + Int(length) <= bytes.count else { return nil }
                fields.append(.bytes(number, Array(bytes[i..<(i + Int(length))])))
                i += Int(length)
            default:
                return nil
            }
        }
        return fields
    }

    public static func messages(_ fields: [Field], _ number: Int) -> [[Field]] {
        fields.compactMap { if case .bytes(number, let bytes) = $0 { decode(bytes) } else { nil } }
    }

    public static func strings(_ fields: [Field], _ number: Int) -> [String] {
        fields.compactMap { if case .bytes(number, let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }
}
