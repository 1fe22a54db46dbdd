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
/// The write is atomic: the file is written under a temporary name in the target's directory,
/// synced, renamed over the target and the directory synced, so that a crash leaves either the
/// old file or the new one, never a torn file.
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
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws(SafetensorsError) {
        try validate(tensors, file: path)
        let header = header(tensors, metadata: metadata)

        let (directory, name) = split(path)
        // A random suffix and O_EXCL: two writers of the same target never share a temporary
        // file. The leading dot keeps it out of plain directory listings.
        let temporary = "\(directory)/.\(name).\(String(UInt64.random(in: .min ... .max), radix: 16)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw .system(.unwritable, file: path, "cannot create the temporary file '\(temporary)'") }
        do throws(SafetensorsError) {
            try header.withUnsafeBufferPointer { (bytes) throws(SafetensorsError) in try writeAll(fd, bytes, file: path) }
            // Converted to little-endian a chunk at a time, so a large tensor needs no copy.
            var chunk = [UInt32](repeating: 0, count: 16_384)
            for tensor in tensors {
                try tensor.withValues { (values) throws(SafetensorsError) in
                    var start = 0
                    while start < values.count {
                        let n = min(chunk.count, values.count - start)
                        for i in 0..<n { chunk[i] = values[start + i].bitPattern.littleEndian }
                        try chunk[0..<n].withUnsafeBufferPointer { (words) throws(SafetensorsError) in
                            try writeAll(fd, words, file: path)
                        }
                        start += n
                    }
                }
            }
            guard fsync(fd) == 0 else { throw .system(.unwritable, file: path, "cannot sync the temporary file") }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        // close can report a write error deferred by the file system (NFS, quotas).
        guard close(fd) == 0 else {
            let error = SafetensorsError.system(.unwritable, file: path, "cannot close the temporary file")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = SafetensorsError.system(.unwritable, file: path, "cannot rename the temporary file over the target")
            unlink(temporary)
            throw error
        }
        // The rename is durable only once the directory entry is on disk.
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { throw .system(.unwritable, file: path, "cannot open the directory to sync it") }
        defer { close(directoryFD) }
        guard fsync(directoryFD) == 0 else { throw .system(.unwritable, file: path, "cannot sync the directory") }
    }

    /// Names must be unique and not the metadata key; each shape's element count must be the
    /// number of values given.
    static func validate(_ tensors: [Tensor], file: String) throws(SafetensorsError) {
        var names = Set<String>()
        for tensor in tensors {
            guard tensor.name != "__metadata__" else {
                throw SafetensorsError(.invalidTensor, file: file, "'__metadata__' is reserved and cannot name a tensor")
            }
            guard names.insert(tensor.name).inserted else {
                throw SafetensorsError(.invalidTensor, file: file, "two tensors are named '\(tensor.name)'")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }),
                  let bytes = SafetensorsReader.byteCount(of: tensor.shape), bytes / 4 == tensor.count else {
                throw SafetensorsError(.invalidTensor, file: file,
                                       "tensor '\(tensor.name)' has shape \(tensor.shape) but \(tensor.count) values")
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

    /// The directory of `path` (`.` when it has none) and its last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, String(path[path.index(after: slash)...]))
    }

}

/// Writes all of `buffer`'s bytes, resuming after partial writes and interrupted calls.
/// Outside `SafetensorsWriter`, whose own `write` would hide the system's.
private func writeAll<T>(_ fd: Int32, _ buffer: UnsafeBufferPointer<T>, file: String) throws(SafetensorsError) {
    let bytes = UnsafeRawBufferPointer(buffer)
    guard let base = bytes.baseAddress else { return }  // nothing to write
    var done = 0
    while done < bytes.count {
        let n = write(fd, base + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw .system(.unwritable, file: file, "cannot write the temporary file") }
        done += n
    }
}
