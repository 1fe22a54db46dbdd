import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to create, write, sync or close a TensorBoard event file: what was being done, to
/// which file, and the system's reason.
public struct TensorBoardEventError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done: `create`, `write`, `sync` or `close`.
    public var operation: String
    /// The event file's path.
    public var path: String
    /// The system's explanation, e.g. `No space left on device`.
    public var reason: String

    /// The single line a user reads.
    public var description: String { "cannot \(operation) TensorBoard event file \(path): \(reason)" }
}

/// Writes scalars and histograms to a TensorBoard event file, `events.out.tfevents.<unix seconds>.<hostname>`,
/// without TensorFlow or a protobuf library: each event is a hand-encoded `tensorflow.Event` in
/// a TFRecord frame (see `TensorBoardEncoding`).
///
/// Adding never fails: records are buffered in memory until `flush()`, which writes and syncs
/// them and is where failures are reported. Call it at each logging interval, and `close()` at
/// the end.
public final class TensorBoardEventWriter {
    /// The event file being written.
    public let file: URL
    /// -1 once closed.
    private var descriptor: Int32
    /// Encoded records not yet handed to the system.
    private var pending: [UInt8]

    /// Creates a new event file in `directory`, which must exist, and buffers the version record
    /// TensorBoard expects first. Refuses to overwrite a file of the same name.
    public init(directory: URL) throws {
        let now = Date().timeIntervalSince1970
        file = directory.appendingPathComponent("events.out.tfevents.\(Int(now)).\(hostname())")
        descriptor = systemOpen(file.path)
        guard descriptor >= 0 else { throw Self.failure("create", file: file) }
        pending = TensorBoardEncoding.record(TensorBoardEncoding.versionEvent(wallTime: now))
    }

    deinit {
        guard descriptor >= 0 else { return }
        // Nobody can be told of a failure here; callers who need to know call `close()`. Writing
        // anyway keeps the scalars logged before, say, a training error ended the run.
        try? writePending()
        _ = systemClose(descriptor)
    }

    /// Buffers one event holding one scalar. `wallTime` is seconds since 1970.
    public func addScalar(tag: String, value: Float, step: Int, wallTime: Double) {
        addScalars([(tag: tag, value: value)], step: step, wallTime: wallTime)
    }

    /// Buffers one event holding several scalars of the same step, e.g. every task's loss.
    public func addScalars(_ scalars: [(tag: String, value: Float)], step: Int, wallTime: Double) {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        pending += TensorBoardEncoding.record(
            TensorBoardEncoding.scalarEvent(scalars, step: step, wallTime: wallTime))
    }

    /// Buffers one event holding several histograms of the same step (a layer's activations,
    /// weights and gradients, say).
    /// Writes again the scalars a CSV log kept (a resumed run's `metrics.csv` or
    /// `diagnostics.csv`): one event per epoch, the epoch read from `epochColumn`, each row's tag
    /// made by `tag` and its value read from `valueColumn`.
    func replay(_ table: CSVTable, epochColumn: Int, valueColumn: Int, tag: (Int) -> String) {
        var epoch = 0
        var scalars: [(tag: String, value: Float)] = []
        for row in 0..<table.rowCount {
            let rowEpoch = Int(table.string(row: row, column: epochColumn)) ?? 0
            if rowEpoch != epoch, !scalars.isEmpty {
                addScalars(scalars, step: epoch, wallTime: Date().timeIntervalSince1970)
                scalars = []
            }
            epoch = rowEpoch
            scalars.append((tag(row), Float(table.number(row: row, column: valueColumn) ?? .nan)))
        }
        if !scalars.isEmpty { addScalars(scalars, step: epoch, wallTime: Date().timeIntervalSince1970) }
    }

    public func addHistograms(_ histograms: [(tag: String, histogram: Histogram)], step: Int, wallTime: Double) {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        pending += TensorBoardEncoding.record(
            TensorBoardEncoding.histogramEvent(histograms, step: step, wallTime: wallTime))
    }

    /// Writes the buffered records and syncs the file to disk.
    public func flush() throws {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        try writePending()
        guard fsync(descriptor) == 0 else { throw Self.failure("sync", file: file) }
    }

    /// Flushes and closes the file. Closing again does nothing; adding after closing is a
    /// programming error.
    public func close() throws {
        guard descriptor >= 0 else { return }
        defer { descriptor = -1 }
        do {
            try flush()
        } catch {
            _ = systemClose(descriptor)
            throw error
        }
        guard systemClose(descriptor) == 0 else { throw Self.failure("close", file: file) }
    }

    /// Hands `pending` to the system, retrying short writes and interrupted calls. On failure,
    /// what was written is dropped from `pending`, so a later flush does not repeat it.
    private func writePending() throws {
        var written = 0
        defer { pending.removeFirst(written) }
        while written < pending.count {
            let count = pending.withUnsafeBytes { bytes in
                systemWrite(descriptor, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", file: file)
            }
            written += count
        }
    }

    /// The error for the system call that just failed; call before anything can change `errno`.
    private static func failure(_ operation: String, file: URL) -> TensorBoardEventError {
        let code = errno
        return TensorBoardEventError(operation: operation, path: file.path, reason: String(cString: strerror(code)))
    }
}

// The system calls live outside the class because its `close()` would hide the C function.

private func systemOpen(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

/// The machine's name as TensorFlow puts it in event file names. `gethostname` rather than
/// `ProcessInfo.hostName`, which may ask DNS for a canonical name.
private func hostname() -> String {
    var name = [CChar](repeating: 0, count: 256)
    guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The bytes of TensorBoard event files: `tensorflow.Event` protobufs encoded by hand, framed as
/// TFRecords.
///
/// The messages used, from tensorflow/core/util/event.proto and framework/summary.proto:
///
///     message Event   { double wall_time = 1; int64 step = 2;
///                       oneof what { string file_version = 3; Summary summary = 5; ... } }
///     message Summary { repeated Value value = 1; }
///     message Value   { string tag = 1; oneof value { float simple_value = 2;
///                                                 HistogramProto histo = 5; ... } }
///     message HistogramProto { double min = 1; double max = 2; double num = 3; double sum = 4;
///                              double sum_squares = 5;
///                              repeated double bucket_limit = 6 [packed = true];
///                              repeated double bucket = 7 [packed = true]; }
enum TensorBoardEncoding {
    /// The version TensorBoard expects in the first event of a file.
    static let fileVersion = "brain.Event:2"

    /// Protobuf wire types, the low three bits of a field's key.
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// The event that opens a file: a wall time and the file version, no step.
    static func versionEvent(wallTime: Double) -> [UInt8] {
        var event: [UInt8] = []
        appendKey(field: 1, .fixed64, to: &event)
        appendLittleEndian(wallTime.bitPattern, to: &event)
        appendLengthDelimited(field: 3, Array(fileVersion.utf8), to: &event)
        return event
    }

    /// An event whose summary holds one simple value per scalar, in the order given.
    static func scalarEvent(_ scalars: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        var summary: [UInt8] = []
        for scalar in scalars {
            var value: [UInt8] = []
            appendLengthDelimited(field: 1, Array(scalar.tag.utf8), to: &value)
            appendKey(field: 2, .fixed32, to: &value)
            appendLittleEndian(scalar.value.bitPattern, to: &value)
            appendLengthDelimited(field: 1, value, to: &summary)
        }
        return event(summary: summary, step: step, wallTime: wallTime)
    }

    /// An event with a wall time, a step and a summary.
    static func event(summary: [UInt8], step: Int, wallTime: Double) -> [UInt8] {
        var event: [UInt8] = []
        appendKey(field: 1, .fixed64, to: &event)
        appendLittleEndian(wallTime.bitPattern, to: &event)
        appendKey(field: 2, .varint, to: &event)
        // int64 fields carry negative numbers as their two's complement, ten varint bytes.
        appendVarint(UInt64(bitPattern: Int64(step)), to: &event)
        appendLengthDelimited(field: 5, summary, to: &event)
        return event
    }

    /// An event whose summary holds one `HistogramProto` per histogram, in the order given.
    static func histogramEvent(_ histograms: [(tag: String, histogram: Histogram)], step: Int, wallTime: Double) -> [UInt8] {
        var summary: [UInt8] = []
        for (tag, histogram) in histograms {
            var value: [UInt8] = []
            appendLengthDelimited(field: 1, Array(tag.utf8), to: &value)
            appendLengthDelimited(field: 5, histogramProto(histogram), to: &value)
            appendLengthDelimited(field: 1, value, to: &summary)
        }
        return event(summary: summary, step: step, wallTime: wallTime)
    }

    /// A `HistogramProto`: the five doubles, then the limits and counts as packed doubles.
    static func histogramProto(_ histogram: Histogram) -> [UInt8] {
        var proto: [UInt8] = []
        for (field, value) in [(1, histogram.minimum), (2, histogram.maximum), (3, histogram.count), (4, histogram.sum),
                               (5, histogram.sumOfSquares)] as [(UInt64, Double)] {
            appendKey(field: field, .fixed64, to: &proto)
            appendLittleEndian(value.bitPattern, to: &proto)
        }
        for (field, values) in [(6, histogram.limits), (7, histogram.counts)] as [(UInt64, [Double])] {
            var packed: [UInt8] = []
            for value in values { appendLittleEndian(value.bitPattern, to: &packed) }
            appendLengthDelimited(field: field, packed, to: &proto)
        }
        return proto
    }

    /// TFRecord framing: the length as a little-endian UInt64, its masked CRC-32C, the data, the
    /// data's masked CRC-32C; both CRCs little-endian UInt32.
    static func record(_ data: [UInt8]) -> [UInt8] {
        var record: [UInt8] = []
        record.reserveCapacity(data.count + 16)
        appendLittleEndian(UInt64(data.count), to: &record)
        appendLittleEndian(CRC32C.maskedChecksum(record), to: &record)
        record += data
        appendLittleEndian(CRC32C.maskedChecksum(data), to: &record)
        return record
    }

    static func appendKey(field: UInt64, _ wireType: WireType, to bytes: inout [UInt8]) {
        appendVarint(field << 3 | wireType.rawValue, to: &bytes)
    }

    /// Seven bits per byte, least significant first, the high bit set on all but the last.
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    static func appendLengthDelimited(field: UInt64, _ payload: [UInt8], to bytes: inout [UInt8]) {
        appendKey(field: field, .lengthDelimited, to: &bytes)
        appendVarint(UInt64(payload.count), to: &bytes)
        bytes += payload
    }

    static func appendLittleEndian(_ value: some FixedWidthInteger, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
