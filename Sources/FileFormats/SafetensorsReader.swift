import Foundation

/// A float32 tensor read from a safetensors file: its shape (row-major, outermost first) and
/// its values.
public struct SafetensorsTensor: Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// The contents of a safetensors file.
public struct SafetensorsFile: Sendable {
    /// The float32 tensors by name.
    public var tensors: [String: SafetensorsTensor]
    /// The tensors of other dtypes (a PyTorch state dict's int64 `num_batches_tracked`, float16
    /// weights), by name: their dtype and shape, checked but not read.
    public var otherTensors: [String: (dtype: String, shape: [Int])] = [:]
    /// The `__metadata__` strings; empty when the file has none.
    public var metadata: [String: String]
}

/// Reads safetensors files (github.com/huggingface/safetensors): the float32 tensors' values,
/// and the dtype and shape of the others.
///
/// The file is treated as hostile: every number in the header is checked against the file
/// before it is used, so a corrupt or truncated file gives a `Problem`, never a crash
/// or a read out of bounds. The checks are the reference implementation's: the header length
/// within the file, the header JSON, each tensor's dtype and byte count, and offsets that tile
/// the data section exactly, without overlaps or gaps.
public enum SafetensorsReader {
    /// The largest header accepted. Real headers are a few megabytes at most; the reference
    /// implementation uses the same limit, so a wild length fails before any allocation.
    static let maxHeaderLength: UInt64 = 100_000_000

    /// A problem for the system call that just failed, with the reason `errno` gives; call it
    /// before anything else can overwrite `errno`.
    static func systemProblem(file: String, _ what: String) -> Problem {
        Problem(file: file, message: "\(what): \(String(cString: strerror(errno)))")
    }

    /// A tensor's entry in the header, with offsets relative to the start of the data section.
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Reads every tensor and the metadata of the file at `path`.
    public static func read(path: String) throws(Problem) -> SafetensorsFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemProblem(file: path, "cannot open the file") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw systemProblem(file: path, "cannot read the file's size") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw Problem(file: path, message: "the path is not a regular file")
        }
        let size = Int(status.st_size)

        guard size > 0 else {
            throw Problem(file: path, message: "the file is empty; a safetensors file starts with an 8-byte header length")
        }
        guard size >= 8 else {
            throw Problem(file: path, message: "the file has \(size) bytes, fewer than the 8 of the header length")
        }
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try readFully(fd, into: &lengthBytes, at: 0, file: path)
        let headerLength = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= maxHeaderLength else {
            throw Problem(file: path, message: "the header length \(headerLength) is over the limit of \(maxHeaderLength) bytes")
        }
        guard headerLength <= UInt64(size - 8) else {
            throw Problem(file: path, message: "the header length \(headerLength) runs past the end of the file (\(size) bytes)")
        }
        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        try readFully(fd, into: &headerBytes, at: 8, file: path)

        let (entries, metadata) = try parseHeader(headerBytes, file: path)
        let dataStart = 8 + Int(headerLength)
        try validate(entries, dataSize: size - dataStart, file: path)

        var tensors: [String: SafetensorsTensor] = [:]
        var others: [String: (dtype: String, shape: [Int])] = [:]
        for entry in entries {
            guard entry.dtype == "F32" else {
                others[entry.name] = (entry.dtype, entry.shape)
                continue
            }
            var values = [Float](repeating: 0, count: (entry.end - entry.begin) / 4)
            try readFully(fd, into: &values, at: dataStart + entry.begin, file: path)
            // The file is little-endian; on a little-endian host this is the identity.
            for i in values.indices {
                values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern))
            }
            tensors[entry.name] = SafetensorsTensor(shape: entry.shape, values: values)
        }
        return SafetensorsFile(tensors: tensors, otherTensors: others, metadata: metadata)
    }

    /// Fills `buffer` from the file at byte `offset`. A short read means the file shrank after
    /// its size was taken, which is a truncated file.
    static func readFully<T>(_ fd: Int32, into buffer: inout [T], at offset: Int, file: String) throws(Problem) {
        try buffer.withUnsafeMutableBufferPointer { (items) throws(Problem) in
            let bytes = UnsafeMutableRawBufferPointer(items)
            guard let base = bytes.baseAddress else { return }  // nothing to read
            var done = 0
            while done < bytes.count {
                let n = pread(fd, base + done, bytes.count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw systemProblem(file: file, "cannot read the file") }
                if n == 0 {
                    throw Problem(file: file,
                                  message: "the file ended at byte \(offset + done) while \(offset + bytes.count) were expected")
                }
                done += n
            }
        }
    }

    /// The tensor entries (sorted by name, so that the first problem reported does not depend on
    /// the header's key order) and the metadata of a header.
    static func parseHeader(_ bytes: [UInt8], file: String) throws(Problem) -> ([Entry], [String: String]) {
        var parser = JSONParser(bytes: bytes, file: file)
        let root = try parser.parseDocument()
        guard case .object(let members) = root else {
            throw Problem(file: file, message: "the header is not a JSON object")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                entries.append(try parseEntry(name: key, value, file: file))
            }
        }
        return (entries.sorted { $0.name < $1.name }, metadata)
    }

    static func parseMetadata(_ value: JSONValue, file: String) throws(Problem) -> [String: String] {
        let problem = Problem(file: file, message: "the header's '__metadata__' must map strings to strings")
        guard case .object(let members) = value else { throw problem }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else { throw problem }
            metadata[key] = text
        }
        return metadata
    }

    static func parseEntry(name: String, _ value: JSONValue, file: String) throws(Problem) -> Entry {
        func problem(_ text: String) -> Problem {
            Problem(file: file, message: "tensor '\(name)' in the header \(text)")
        }
        guard case .object(let members) = value else { throw problem("is not a JSON object") }
        // Other fields are ignored, as the reference implementation does.
        let fields = Dictionary(members, uniquingKeysWith: { first, _ in first })
        guard case .string(let dtype)? = fields["dtype"] else { throw problem("has no string 'dtype'") }
        guard let shape = fields["shape"].flatMap(naturals) else {
            throw problem("has no 'shape' that is an array of non-negative integers")
        }
        guard let offsets = fields["data_offsets"].flatMap(naturals), offsets.count == 2 else {
            throw problem("has no 'data_offsets' that is a pair of non-negative integers")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// The value as an array of integers ≥ 0 that fit in an Int, or nil.
    static func naturals(_ value: JSONValue) -> [Int]? {
        guard case .array(let items) = value else { return nil }
        var numbers: [Int] = []
        for item in items {
            guard case .number(let text) = item, let n = Int(text), n >= 0 else { return nil }
            numbers.append(n)
        }
        return numbers
    }

    /// Checks each tensor on its own (dtype, byte count), then that their byte ranges, in offset
    /// order, tile the data section from its first byte to its last.
    static func validate(_ entries: [Entry], dataSize: Int, file: String) throws(Problem) {
        for entry in entries {
            guard let size = elementSizes[entry.dtype] else {
                throw Problem(file: file, message: "tensor '\(entry.name)' has dtype \(entry.dtype), which safetensors does not define")
            }
            guard entry.begin <= entry.end else {
                throw Problem(file: file,
                              message: "tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] that end before they begin")
            }
            guard let expected = byteCount(of: entry.shape, elementSize: size) else {
                throw Problem(file: file,
                              message: "tensor '\(entry.name)' has shape \(entry.shape), more elements than can be addressed")
            }
            guard expected == entry.end - entry.begin else {
                throw Problem(file: file,
                              message: "tensor '\(entry.name)' has shape \(entry.shape), \(expected) bytes as \(entry.dtype), but its data_offsets [\(entry.begin), \(entry.end)] span \(entry.end - entry.begin) bytes")
            }
        }
        var expectedBegin = 0
        var previous: Entry?
        for entry in entries.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
            if entry.begin < expectedBegin, let previous {
                throw Problem(file: file,
                              message: "tensor '\(entry.name)' (bytes \(entry.begin)..<\(entry.end)) overlaps tensor '\(previous.name)' (bytes \(previous.begin)..<\(previous.end))")
            }
            if entry.begin > expectedBegin {
                throw Problem(file: file,
                              message: "bytes \(expectedBegin)..<\(entry.begin) of the data section belong to no tensor")
            }
            expectedBegin = entry.end
            previous = entry
        }
        if expectedBegin > dataSize {
            throw Problem(file: file,
                          message: "the tensors need \(expectedBegin) bytes of data but the file holds \(dataSize); it is truncated")
        }
        if expectedBegin < dataSize {
            throw Problem(file: file,
                          message: "the data section has \(dataSize) bytes but the tensors cover only \(expectedBegin)")
        }
    }

    /// Bytes per element of each dtype safetensors defines.
    static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    /// `elementSize` × the product of the dimensions, or nil when that overflows.
    static func byteCount(of shape: [Int], elementSize: Int = 4) -> Int? {
        var count = elementSize
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
