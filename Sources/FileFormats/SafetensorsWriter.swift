import Foundation

/// Writes float32 tensors in the safetensors format (github.com/huggingface/safetensors), which
/// PyTorch, JAX and most model tools read:
///
/// ```
/// 8 bytes    N, the header length, unsigned little-endian
/// N bytes    UTF-8 JSON: {"__metadata__":{"k":"v"},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},…}
///            padded with spaces so that the data starts at a multiple of 8
/// the rest   each tensor's values, little-endian, in the order given, without gaps
/// ```
///
/// Offsets count from the start of the data section. The JSON is compact, with the metadata
/// first and its keys sorted, so the same tensors always give the same bytes.
///
/// The write is durable (`DurableFile`): a crash leaves either the old file or the new one,
/// never a torn file.
public enum SafetensorsWriter {
    /// One named tensor to write. Its values are an array, or a buffer the caller keeps valid
    /// until `write` returns (a view into a plan's parameter block, written without a copy).
    public struct Tensor {
        public let name: String
        /// Row-major, outermost first; `[]` is a scalar holding one value.
        public let shape: [Int]
        let values: Values

        enum Values {
            case array([Float])
            case buffer(UnsafeBufferPointer<Float>)
        }

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = .array(values)
        }

        public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
            self.name = name
            self.shape = shape
            self.values = .buffer(values)
        }

        var count: Int {
            switch values {
            case .array(let array): array.count
            case .buffer(let buffer): buffer.count
            }
        }

        func withValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
            switch values {
            case .array(let array): try array.withUnsafeBufferPointer(body)
            case .buffer(let buffer): try body(buffer)
            }
        }
    }

    /// Writes `tensors` and `metadata` (omitted from the header when empty) to `path`,
    /// replacing any file there.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws(Problem) {
        try validate(tensors, file: path)
        let header = header(tensors, metadata: metadata)

        do throws(DurableFileError) {
            try DurableFile.write(to: path) { (output) throws(DurableFileError) in
                try append(header: header, tensors, to: output)
            }
        } catch {
            throw Problem(file: path, message: error.message)
        }
    }

    /// The header, then each tensor's values, converted to little-endian a chunk at a time so
    /// that a large tensor needs no copy.
    static func append(header: [UInt8], _ tensors: [Tensor], to output: DurableFile.Output) throws(DurableFileError) {
        try header.withUnsafeBufferPointer { (bytes) throws(DurableFileError) in try output.append(bytes) }
        var chunk = [UInt32](repeating: 0, count: 16_384)
        for tensor in tensors {
            try tensor.withValues { (values) throws(DurableFileError) in
                var start = 0
                while start < values.count {
                    let n = min(chunk.count, values.count - start)
                    for i in 0..<n { chunk[i] = values[start + i].bitPattern.littleEndian }
                    try chunk[0..<n].withUnsafeBufferPointer { (words) throws(DurableFileError) in try output.append(words) }
                    start += n
                }
            }
        }
    }

    /// Names must be unique and not the metadata key; each shape's element count must be the
    /// number of values given.
    static func validate(_ tensors: [Tensor], file: String) throws(Problem) {
        var names = Set<String>()
        for tensor in tensors {
            guard tensor.name != "__metadata__" else {
                throw Problem(file: file, message: "'__metadata__' is reserved and cannot name a tensor")
            }
            guard names.insert(tensor.name).inserted else {
                throw Problem(file: file, message: "two tensors are named '\(tensor.name)'")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }),
                  let bytes = SafetensorsReader.byteCount(of: tensor.shape), bytes / 4 == tensor.count else {
                throw Problem(file: file, message: "tensor '\(tensor.name)' has shape \(tensor.shape) but \(tensor.count) values")
            }
        }
    }

    /// The header length and the header, padded with spaces to a multiple of 8 bytes.
    static func header(_ tensors: [Tensor], metadata: [String: String]) -> [UInt8] {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + quoted($0.value) }
            fields.append(quoted("__metadata__") + ":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append(quoted(tensor.name) + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        // 8 + N is a multiple of 8 exactly when N is.
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        let length = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + json
    }

    /// `text` as a JSON string: quote, backslash and control characters escaped, everything
    /// else as its UTF-8.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
