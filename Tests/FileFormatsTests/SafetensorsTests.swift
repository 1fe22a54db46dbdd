import Foundation
import Testing
@testable import FileFormats

/// The safetensors writer against hand-written bytes, the reader against the writer, against
/// headers as other writers lay them out, and against corrupt files.
struct SafetensorsTests {
    /// An 8-byte little-endian header length, the header as given (no padding added) and the data.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * $0)) } + json + data
    }

    /// tensor "a" = [1, -2] with metadata {"format": "pt"}, laid out by hand from the spec.
    static let tinyFile: [UInt8] =
        [0x58, 0, 0, 0, 0, 0, 0, 0]  // N = 88, little-endian
        + Array(#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.utf8)  // 85 bytes
        + Array("   ".utf8)  // 85 + 3 = 88: the data starts at byte 96, a multiple of 8
        + [0x00, 0x00, 0x80, 0x3F]  // 1.0 = 0x3F800000, little-endian
        + [0x00, 0x00, 0x00, 0xC0]  // -2.0 = 0xC0000000

    @Test func writesTheExactBytesOfTheSpec() throws {
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/tiny.safetensors"
            try SafetensorsWriter.write([.init(name: "a", shape: [2], values: [1, -2])], metadata: ["format": "pt"], to: path)
            let bytes = try #require(FileManager.default.contents(atPath: path))
            #expect(Self.tinyFile.count == 104)
            #expect([UInt8](bytes) == Self.tinyFile)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["tiny.safetensors"])
        }
    }

    @Test func escapesNamesAndMetadataAsJSON() {
        #expect(SafetensorsWriter.quoted("a\"b\\c\nd\te\u{01}é😀") == #""a\"b\\c\nd\te\u0001é😀""#)
        let header = SafetensorsWriter.header([.init(name: "x\"y", shape: [], values: [0])], metadata: [:])
        #expect(Array(header.prefix(8)) == [56, 0, 0, 0, 0, 0, 0, 0])  // already a multiple of 8: no padding
        #expect(String(decoding: header.dropFirst(8), as: UTF8.self) == #"{"x\"y":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#)
    }

    @Test func roundTripsTensorsAndMetadata() throws {
        let weight = (0..<12).map { Float($0) * 0.37 - 1.5 }
        let bias: [Float] = [0.25, -0.5, 1e-7, 3e8]
        // Compared by bit pattern: NaN, the sign of zero and subnormals must survive.
        let special: [Float] = [.nan, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let oddName = "quote\" back\\slash\nnewline\tü😀"
        let metadata = ["format": "pt", "flowtrain": "1", "note": "line\nbreak \"quoted\""]

        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/weights.safetensors"
            try bias.withUnsafeBufferPointer { biasBuffer in
                try SafetensorsWriter.write([
                    .init(name: "trunk.body.0.weight", shape: [3, 4], values: weight),
                    .init(name: "trunk.body.0.bias", shape: [4], values: biasBuffer),
                    .init(name: "scalar", shape: [], values: [42]),
                    .init(name: "empty", shape: [0, 3], values: []),
                    .init(name: "special", shape: [2, 3], values: special),
                    .init(name: oddName, shape: [1, 1, 1], values: [7]),
                ], metadata: metadata, to: path)
            }
            let file = try SafetensorsReader.read(path: path)
            #expect(file.metadata == metadata)
            #expect(Set(file.tensors.keys) == ["trunk.body.0.weight", "trunk.body.0.bias", "scalar", "empty", "special", oddName])
            #expect(file.tensors["trunk.body.0.weight"] == SafetensorsTensor(shape: [3, 4], values: weight))
            #expect(file.tensors["trunk.body.0.bias"] == SafetensorsTensor(shape: [4], values: bias))
            #expect(file.tensors["scalar"] == SafetensorsTensor(shape: [], values: [42]))
            #expect(file.tensors["empty"] == SafetensorsTensor(shape: [0, 3], values: []))
            #expect(file.tensors[oddName] == SafetensorsTensor(shape: [1, 1, 1], values: [7]))
            let read = try #require(file.tensors["special"])
            #expect(read.shape == [2, 3])
            #expect(read.values.map(\.bitPattern) == special.map(\.bitPattern))

            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            let headerLength = bytes.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
            #expect(headerLength % 8 == 0)
            #expect(bytes.count == 8 + headerLength + 4 * (12 + 4 + 1 + 0 + 6 + 1))
        }
    }

    @Test func replacesAnExistingFileAndLeavesNoTemporaryFile() throws {
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/w.safetensors"
            try SafetensorsWriter.write([.init(name: "old", shape: [3], values: [1, 2, 3])], to: path)
            try SafetensorsWriter.write([.init(name: "new", shape: [1], values: [4])], to: path)
            let file = try SafetensorsReader.read(path: path)
            #expect(file.tensors == ["new": SafetensorsTensor(shape: [1], values: [4])])
            #expect(file.metadata.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["w.safetensors"])
        }
    }

    /// Another writer's layout: keys in another order, whitespace, a Unicode escape, data in an
    /// order unlike the header's, no padding (so the data is not 8-aligned).
    @Test func readsHeadersInAnyKeyOrder() throws {
        let header = """
            { "w\\u00e9": {"data_offsets": [8, 12], "shape": [1], "dtype": "F32"},
              "__metadata__": {"format": "np"},
              "b": {"shape": [2], "dtype": "F32", "data_offsets": [0, 8], "extra": [true, null]} }
            """
        let data: [UInt8] = [0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xA0, 0x40]  // 3, 4, 5
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/other.safetensors"
            try Data(Self.file(header: header, data: data)).write(to: URL(fileURLWithPath: path))
            let file = try SafetensorsReader.read(path: path)
            #expect(file.metadata == ["format": "np"])
            #expect(file.tensors == [
                "b": SafetensorsTensor(shape: [2], values: [3, 4]),
                "wé": SafetensorsTensor(shape: [1], values: [5]),
            ])
        }
    }

    /// A PyTorch state dict's file: float32 weights beside an int64 `num_batches_tracked` and a
    /// float16 tensor, which are listed with their dtype and shape and not read.
    @Test func listsTensorsOfOtherDtypesWithoutReadingThem() throws {
        let header = #"{"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[4,12]},"# +
            #""bn.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"# +
            #""half":{"dtype":"F16","shape":[2],"data_offsets":[12,16]}}"#
        let data: [UInt8] = [0x00, 0x00, 0x40, 0x40] + [7, 0, 0, 0, 0, 0, 0, 0] + [0, 0x3C, 0, 0x3C]
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/torch.safetensors"
            try Data(Self.file(header: header, data: data)).write(to: URL(fileURLWithPath: path))
            let file = try SafetensorsReader.read(path: path)
            #expect(file.tensors == ["bn.weight": SafetensorsTensor(shape: [1], values: [3])])
            #expect(file.otherTensors.mapValues { "\($0.dtype) \($0.shape)" }
                    == ["bn.num_batches_tracked": "I64 []", "half": "F16 [2]"])
        }
    }

    /// A damaged file and words its message must hold.
    struct CorruptFile: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var phrase: String
        var testDescription: String { name }

        init(_ name: String, _ bytes: [UInt8], _ phrase: String) {
            self.name = name
            self.bytes = bytes
            self.phrase = phrase
        }

        init(_ name: String, header: String, data: [UInt8], _ phrase: String) {
            self.init(name, SafetensorsTests.file(header: header, data: data), phrase)
        }
    }

    static let f32 = #""dtype":"F32""#

    static let corruptFiles: [CorruptFile] = [
        CorruptFile("empty file", [], "the file is empty"),
        CorruptFile("shorter than the header length", [0x58, 0, 0], "3 bytes, fewer than the 8"),
        CorruptFile("truncated in the data", Array(tinyFile.dropLast(3)),
                    "the tensors need 8 bytes of data but the file holds 5"),
        CorruptFile("truncated in the header", Array(tinyFile.prefix(50)),
                    "the header length 88 runs past the end of the file (50 bytes)"),
        CorruptFile("header length past the end", [0xE8, 0x03, 0, 0, 0, 0, 0, 0] + Array("{}".utf8),
                    "the header length 1000 runs past the end of the file (10 bytes)"),
        CorruptFile("header length over the limit", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8),
                    "over the limit"),
        CorruptFile("bad JSON", header: #"{"a":{\#(f32),"shape":[2]"#, data: [],
                    "not valid JSON: expected ',' or '}' at byte 31"),
        CorruptFile("empty header", header: "", data: [], "not valid JSON: unexpected end of the header at byte 0"),
        CorruptFile("text after the header object", header: "{} x", data: [], "unexpected text after the value"),
        CorruptFile("header not an object", header: "[1, 2]", data: [], "the header is not a JSON object"),
        CorruptFile("duplicate key", header: #"{"a":{},"a":{}}"#, data: [], "duplicate key 'a' at byte 8"),
        CorruptFile("header not UTF-8", [6, 0, 0, 0, 0, 0, 0, 0] + [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x7D],  // {"\xFF":}
                    "not valid UTF-8"),
        CorruptFile("nesting bomb", header: #"{"__metadata__":"# + String(repeating: "[", count: 100_000), data: [],
                    "nesting deeper than 64 levels"),
        CorruptFile("missing dtype", header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0],
                    "tensor 'a' in the header has no string 'dtype'"),
        CorruptFile("negative dimension", header: #"{"a":{\#(f32),"shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0],
                    "has no 'shape' that is an array of non-negative integers"),
        CorruptFile("fractional offset", header: #"{"a":{\#(f32),"shape":[1],"data_offsets":[0,4.0]}}"#, data: [0, 0, 0, 0],
                    "has no 'data_offsets' that is a pair of non-negative integers"),
        CorruptFile("metadata not strings", header: #"{"__metadata__":{"epoch":3}}"#, data: [],
                    "'__metadata__' must map strings to strings"),
        CorruptFile("unknown dtype", header: #"{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0],
                    "tensor 'a' has dtype F17, which safetensors does not define"),
        CorruptFile("I64 with an F32's byte count", header: #"{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#,
                    data: [UInt8](repeating: 0, count: 8), "tensor 'a' has shape [2], 16 bytes as I64"),
        CorruptFile("overlapping offsets",
                    header: #"{"a":{\#(f32),"shape":[2],"data_offsets":[0,8]},"b":{\#(f32),"shape":[2],"data_offsets":[4,12]}}"#,
                    data: [UInt8](repeating: 0, count: 12),
                    "tensor 'b' (bytes 4..<12) overlaps tensor 'a' (bytes 0..<8)"),
        CorruptFile("gap between tensors",
                    header: #"{"a":{\#(f32),"shape":[1],"data_offsets":[0,4]},"b":{\#(f32),"shape":[1],"data_offsets":[8,12]}}"#,
                    data: [UInt8](repeating: 0, count: 12), "bytes 4..<8 of the data section belong to no tensor"),
        CorruptFile("reversed offsets", header: #"{"a":{\#(f32),"shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0],
                    "end before they begin"),
        CorruptFile("unused bytes after the tensors", header: #"{"a":{\#(f32),"shape":[1],"data_offsets":[0,4]}}"#,
                    data: [UInt8](repeating: 0, count: 8), "the data section has 8 bytes but the tensors cover only 4"),
        CorruptFile("wrong byte count", header: #"{"a":{\#(f32),"shape":[3],"data_offsets":[0,8]}}"#,
                    data: [UInt8](repeating: 0, count: 8),
                    "tensor 'a' has shape [3], 12 bytes as F32, but its data_offsets [0, 8] span 8 bytes"),
        CorruptFile("shape too large to address", header: #"{"a":{\#(f32),"shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#,
                    data: [UInt8](repeating: 0, count: 8), "more elements than can be addressed"),
    ]

@Test(arguments: corruptFiles)
    func refusesACorruptFile(_ corrupt: CorruptFile) throws {
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/corrupt.safetensors"
            try Data(corrupt.bytes).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: Problem.self) { try SafetensorsReader.read(path: path) }
            #expect(error?.location == Problem.Location(file: path))
            #expect(error?.description.contains(corrupt.phrase) == true, "\(error?.description ?? "no error")")
        }
    }

    @Test func refusesAMissingFileOrADirectory() throws {
        try withScratchDirectory("safetensors") { directory in
            let missing = #expect(throws: Problem.self) { try SafetensorsReader.read(path: directory + "/none") }
            #expect(missing?.description == "\(directory)/none: cannot open the file: No such file or directory")
            let notFile = #expect(throws: Problem.self) { try SafetensorsReader.read(path: directory) }
            #expect(notFile?.description == "\(directory): the path is not a regular file")
        }
    }

    /// Tensors the writer refuses, before it creates any file.
    @Test func refusesInvalidTensors() throws {
        let invalid: [(String, [SafetensorsWriter.Tensor], String)] = [
            ("shape and values disagree", [.init(name: "a", shape: [2, 2], values: [1, 2, 3])], "tensor 'a' has shape [2, 2] but 3 values"),
            ("negative dimension", [.init(name: "a", shape: [-1, -3], values: [1, 2, 3])], "tensor 'a' has shape [-1, -3] but 3 values"),
            ("repeated name", [.init(name: "a", shape: [], values: [1]), .init(name: "a", shape: [], values: [2])],
             "two tensors are named 'a'"),
            ("reserved name", [.init(name: "__metadata__", shape: [], values: [1])], "'__metadata__' is reserved"),
        ]
        for (name, tensors, phrase) in invalid {
            try withScratchDirectory("safetensors") { directory in
                let path = directory + "/w.safetensors"
                let error = #expect(throws: Problem.self, "\(name)") { try SafetensorsWriter.write(tensors, to: path) }
                #expect(error?.description.contains(phrase) == true, "\(name): \(error?.description ?? "no error")")
                let leftOver = try FileManager.default.contentsOfDirectory(atPath: directory)
                #expect(leftOver.isEmpty, "\(name)")
            }
        }
    }

    @Test func reportsAnUnwritableDirectory() throws {
        try withScratchDirectory("safetensors") { directory in
            let path = directory + "/missing/w.safetensors"
            let error = #expect(throws: Problem.self) {
                try SafetensorsWriter.write([.init(name: "a", shape: [], values: [1])], to: path)
            }
            #expect(error?.description.hasPrefix("\(path): cannot create the temporary file") == true)
        }
    }
}
