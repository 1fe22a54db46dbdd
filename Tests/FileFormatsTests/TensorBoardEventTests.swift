import Foundation
import Testing
@testable import FileFormats

/// CRC-32C vectors, the bytes of one event against a hand encoding, and a file written then read
/// back by an independent TFRecord and protobuf reader.
struct TensorBoardEventTests {
    @Test func crc32cKnownVectors() {
        // The check value in every CRC catalogue, and RFC 3720's (iSCSI) 32 zero bytes.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        // ((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xA282EAD8, modulo 2^32, worked out by hand.
        #expect(CRC32C.masked(0xE306_9283) == 0xC78A_B0E5)
    }

    /// wall time 1.5, step 300, one scalar "loss" = 0.25.
    @Test func scalarEventBytes() {
        let event = TensorBoardEncoding.scalarEvent([(tag: "loss", value: 0.25)], step: 300, wallTime: 1.5)
        let expected: [UInt8] = [
            0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,  // field 1, fixed64: 1.5 = 0x3FF8_0000_0000_0000
            0x10, 0xAC, 0x02,                    // field 2, varint: 300 = 0b10_0101100
            0x2A, 0x0D,                          // field 5, 13 bytes: Summary
            0x0A, 0x0B,                          //   field 1, 11 bytes: Value
            0x0A, 0x04, 0x6C, 0x6F, 0x73, 0x73,  //     field 1, 4 bytes: "loss"
            0x15, 0, 0, 0x80, 0x3E,              //     field 2, fixed32: 0.25 = 0x3E80_0000
        ]
        #expect(event == expected)

        // Length 27, then the masked CRCs of the length bytes and of the data.
        let record = TensorBoardEncoding.record(event)
        #expect(Array(record.prefix(12)) == [27, 0, 0, 0, 0, 0, 0, 0, 0x1A, 0x0D, 0x9E, 0x13])
        #expect(Array(record.dropFirst(12).prefix(27)) == expected)
        #expect(Array(record.suffix(4)) == [0x99, 0x08, 0xDE, 0xED])
        #expect(record.count == 12 + 27 + 4)
    }

    @Test func negativeStepIsTenVarintBytes() {
        let event = TensorBoardEncoding.scalarEvent([], step: -1, wallTime: 0)
        #expect(Array(event[9..<20]) == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func fileRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tfevents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }

        let writer = try TensorBoardEventWriter(directory: directory)
        #expect(writer.file.lastPathComponent.hasPrefix("events.out.tfevents."))
        writer.addScalar(tag: "train/loss", value: 0.75, step: 0, wallTime: 100.25)
        writer.addScalars([(tag: "train/loss", value: 0.5), (tag: "val/auc", value: 0.875)],
                          step: 1, wallTime: 101.5)
        try writer.flush()
        writer.addScalar(tag: "train/loss", value: -.infinity, step: 1_000_000, wallTime: 102)
        try writer.close()
        try writer.close()

        let bytes = try [UInt8](Data(contentsOf: writer.file))
        let events = try TFRecordReader.records(bytes).map(ParsedEvent.init)
        try #require(events.count == 4)

        #expect(events[0].fileVersion == "brain.Event:2")
        #expect(events[0].values.isEmpty)
        #expect(abs(events[0].wallTime - Date().timeIntervalSince1970) < 60)

        #expect(events[1].step == 0)
        #expect(events[1].wallTime == 100.25)
        #expect(events[1].values.map(\.tag) == ["train/loss"])
        #expect(events[1].values.map(\.value) == [0.75])

        #expect(events[2].step == 1)
        #expect(events[2].wallTime == 101.5)
        #expect(events[2].values.map(\.tag) == ["train/loss", "val/auc"])
        #expect(events[2].values.map(\.value) == [0.5, 0.875])

        #expect(events[3].step == 1_000_000)
        #expect(events[3].values.map(\.value) == [-.infinity])
        #expect(events.dropFirst().allSatisfy { $0.fileVersion == nil })
    }

    /// A histogram written to a file reads back, through TFRecord and protobuf, as the same
    /// numbers: Event.summary (5) → Summary.value (1) → Value.tag (1) and Value.histo (5) →
    /// HistogramProto min (1), max (2), num (3), sum (4), sum_squares (5), bucket_limit (6) and
    /// bucket (7), both packed doubles.
    @Test func histogramEventDecodesToTheSameBuckets() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tfevents-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        let histogram = Histogram(minimum: -1.5, maximum: 4, count: 6, sum: 7.25, sumOfSquares: 30.5,
                                  limits: [0, 2, 4], counts: [2, 3, 1])
        let writer = try TensorBoardEventWriter(directory: directory)
        writer.addHistograms([(tag: "diagnostics/trunk.x.0.dense/weights", histogram: histogram)], step: 3, wallTime: 10)
        try writer.close()

        let events = try TFRecordReader.records([UInt8](Data(contentsOf: writer.file)))
        try #require(events.count == 2)
        var step = 0
        var decoded: [(tag: String, histogram: Histogram)] = []
        for (field, value) in try ProtobufField.fields(events[1]) {
            switch (field, value) {
            case (2, .varint(let raw)): step = Int(raw)
            case (5, .bytes(let summary)):
                for case (1, .bytes(let valueBytes)) in try ProtobufField.fields(summary) {
                    var tag = ""
                    var proto: [UInt8] = []
                    for (valueField, content) in try ProtobufField.fields(valueBytes) {
                        switch (valueField, content) {
                        case (1, .bytes(let text)): tag = String(decoding: text, as: UTF8.self)
                        case (5, .bytes(let bytes)): proto = bytes
                        default: Issue.record("unexpected Value field \(valueField)")
                        }
                    }
                    decoded.append((tag, try decodeHistogram(proto)))
                }
            default: break
            }
        }
        #expect(step == 3)
        try #require(decoded.count == 1)
        #expect(decoded[0].tag == "diagnostics/trunk.x.0.dense/weights")
        #expect(decoded[0].histogram == histogram)
    }

    @Test func missingDirectoryNamesTheFile() {
        let directory = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)")
        let error = #expect(throws: Problem.self) { _ = try TensorBoardEventWriter(directory: directory) }
        let message = error?.message ?? ""
        #expect(message.hasPrefix("cannot create TensorBoard event file \(directory.path)/events.out.tfevents."), "\(message)")
        #expect(message.hasSuffix(": No such file or directory"), "\(message)")
        #expect(error?.description == message)
    }
}

/// A test-only malformed-input report, so that a bad file fails the test with a reason.
private struct MalformedEventFile: Error, CustomStringConvertible {
    var description: String
}

/// Splits a TFRecord file into its records, checking both masked CRCs of every one.
private enum TFRecordReader {
    static func records(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 12 else { throw MalformedEventFile(description: "truncated header at \(at)") }
            let lengthBytes = Array(bytes[at..<at + 8])
            let length = Int(littleEndian(lengthBytes))
            guard UInt32(littleEndian(Array(bytes[at + 8..<at + 12]))) == CRC32C.maskedChecksum(lengthBytes) else {
                throw MalformedEventFile(description: "bad length CRC at \(at)")
            }
            at += 12
            guard bytes.count - at >= length + 4 else { throw MalformedEventFile(description: "truncated record at \(at)") }
            let data = Array(bytes[at..<at + length])
            guard UInt32(littleEndian(Array(bytes[at + length..<at + length + 4]))) == CRC32C.maskedChecksum(data) else {
                throw MalformedEventFile(description: "bad data CRC at \(at)")
            }
            records.append(data)
            at += length + 4
        }
        return records
    }
}

/// Little-endian bytes as an unsigned number; the caller picks the width by the slice it passes.
private func littleEndian(_ bytes: [UInt8]) -> UInt64 {
    bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

/// One protobuf field as it appears on the wire.
private enum ProtobufField {
    case varint(UInt64)
    case fixed64(UInt64)
    case bytes([UInt8])
    case fixed32(UInt32)

    /// Every field of a message, in order, as (field number, value).
    static func fields(_ bytes: [UInt8]) throws -> [(Int, ProtobufField)] {
        var fields: [(Int, ProtobufField)] = []
        var at = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < bytes.count, shift < 64 else { throw MalformedEventFile(description: "bad varint") }
                let byte = bytes[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ count: Int) throws -> [UInt8] {
            guard count >= 0, bytes.count - at >= count else { throw MalformedEventFile(description: "truncated field") }
            defer { at += count }
            return Array(bytes[at..<at + count])
        }
        while at < bytes.count {
            let key = try varint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: fields.append((field, .varint(try varint())))
            case 1: fields.append((field, .fixed64(littleEndian(try take(8)))))
            case 2: fields.append((field, .bytes(try take(Int(try varint())))))
            case 5: fields.append((field, .fixed32(UInt32(littleEndian(try take(4))))))
            default: throw MalformedEventFile(description: "unexpected wire type \(key & 7)")
            }
        }
        return fields
    }
}

/// The parts of a `tensorflow.Event` this writer produces; anything else fails the parse.
private struct ParsedEvent {
    var wallTime = 0.0
    var step = 0
    var fileVersion: String?
    var values: [(tag: String, value: Float)] = []

    init(_ bytes: [UInt8]) throws {
        for (field, value) in try ProtobufField.fields(bytes) {
            switch (field, value) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let raw)): step = Int(Int64(bitPattern: raw))
            case (3, .bytes(let text)): fileVersion = String(decoding: text, as: UTF8.self)
            case (5, .bytes(let summary)):
                for (summaryField, summaryValue) in try ProtobufField.fields(summary) {
                    guard summaryField == 1, case .bytes(let valueBytes) = summaryValue else {
                        throw MalformedEventFile(description: "unexpected Summary field \(summaryField)")
                    }
                    values.append(try Self.value(valueBytes))
                }
            default: throw MalformedEventFile(description: "unexpected Event field \(field)")
            }
        }
    }

    static func value(_ bytes: [UInt8]) throws -> (tag: String, value: Float) {
        var tag: String?
        var simpleValue: Float?
        for (field, value) in try ProtobufField.fields(bytes) {
            switch (field, value) {
            case (1, .bytes(let text)): tag = String(decoding: text, as: UTF8.self)
            case (2, .fixed32(let bits)): simpleValue = Float(bitPattern: bits)
            default: throw MalformedEventFile(description: "unexpected Value field \(field)")
            }
        }
        guard let tag, let simpleValue else { throw MalformedEventFile(description: "Value without tag or simple_value") }
        return (tag, simpleValue)
    }
}

/// A `HistogramProto` from its wire bytes: five doubles, then two packed lists of doubles.
private func decodeHistogram(_ bytes: [UInt8]) throws -> Histogram {
    var histogram = Histogram(minimum: .nan, maximum: .nan, count: .nan, sum: .nan, sumOfSquares: .nan, limits: [], counts: [])
    func doubles(_ packed: [UInt8]) throws -> [Double] {
        guard packed.count % 8 == 0 else { throw MalformedEventFile(description: "packed doubles of \(packed.count) bytes") }
        return stride(from: 0, to: packed.count, by: 8).map { Double(bitPattern: littleEndian(Array(packed[$0..<$0 + 8]))) }
    }
    for (field, value) in try ProtobufField.fields(bytes) {
        switch (field, value) {
        case (1, .fixed64(let bits)): histogram.minimum = Double(bitPattern: bits)
        case (2, .fixed64(let bits)): histogram.maximum = Double(bitPattern: bits)
        case (3, .fixed64(let bits)): histogram.count = Double(bitPattern: bits)
        case (4, .fixed64(let bits)): histogram.sum = Double(bitPattern: bits)
        case (5, .fixed64(let bits)): histogram.sumOfSquares = Double(bitPattern: bits)
        case (6, .bytes(let packed)): histogram.limits = try doubles(packed)
        case (7, .bytes(let packed)): histogram.counts = try doubles(packed)
        default: throw MalformedEventFile(description: "unexpected HistogramProto field \(field)")
        }
    }
    return histogram
}
