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
