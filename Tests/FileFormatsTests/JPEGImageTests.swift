import CJPEG
import Foundation
import Testing
@testable import FileFormats

/// Reading JPEGs encoded here by TurboJPEG (baseline, progressive, gray, CMYK), turned upright by
/// each Exif orientation, and the located problems of damaged ones; `ImageFile` telling PNG from
/// JPEG by signature.
final class JPEGImageTests {
    /// A fresh directory per test, removed when the test ends (see PNGImageTests).
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("JPEGImageTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func save(_ bytes: [UInt8], as name: String = "fixture.jpg") throws -> String {
        let file = directory.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// `samples` (`width × height` pixels of `format`) encoded by TurboJPEG.
    static func encode(_ samples: [UInt8], width: Int, height: Int, format: TJPF, subsampling: TJSAMP,
                       quality: Int = 100, flags: Int32 = 0) throws -> [UInt8] {
        let handle = try #require(tjInitCompress())
        defer { tjDestroy(handle) }
        var jpeg: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        defer { tjFree(jpeg) }
        let status = samples.withUnsafeBufferPointer { pixels in
            tjCompress2(handle, pixels.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue), &jpeg, &size,
                        Int32(subsampling.rawValue), Int32(quality), flags)
        }
        try #require(status == 0, "\(String(cString: tjGetErrorStr2(handle)))")
        return Array(UnsafeBufferPointer(start: try #require(jpeg), count: Int(size)))
    }

    /// 2 × 3 blocks of 8 × 8 gray pixels, levels a = 20 (top left) to f = 220 (bottom right) in
    /// steps of 40: flat blocks come back from quality 100 within a level or two.
    static let blocks: [UInt8] = {
        var pixels: [UInt8] = []
        for y in 0..<16 {
            for x in 0..<24 {
                let level: Int = y / 8 * 3 + x / 8
                pixels.append(UInt8(20 + 40 * level))
            }
        }
        return pixels
    }()

    /// The level of the block whose centre is at block column `x`, block row `y`.
    static func block(_ image: PNGImage, x: Int, y: Int) -> Int {
        Int(image.pixels[((y * 8 + 4) * image.width + x * 8 + 4) * image.channels])
    }

    /// An Exif APP1 segment (byte order chosen) whose IFD0 holds another tag, then the orientation.
    static func exifSegment(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func uint16(_ value: Int) -> [UInt8] {
            bigEndian ? [UInt8(value >> 8), UInt8(value & 0xFF)] : [UInt8(value & 0xFF), UInt8(value >> 8)]
        }
        func uint32(_ value: Int) -> [UInt8] {
            bigEndian ? uint16(value >> 16) + uint16(value & 0xFFFF) : uint16(value & 0xFFFF) + uint16(value >> 16)
        }
        let tiff: [UInt8] = (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + uint16(42) + uint32(8) + uint16(2)
            + uint16(0x0100) + uint16(3) + uint32(1) + uint16(99) + uint16(0)
            + uint16(0x0112) + uint16(3) + uint32(1) + uint16(orientation) + uint16(0) + uint32(0)
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        return [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
    }

    @Test(arguments: [1, 3, 4])
    func colourComesBackClosely(channels: Int) throws {
        // 16 × 16 blocks of flat colour.
        let colours: [[UInt8]] = [[200, 30, 40], [20, 180, 90]]
        let pixels = (0..<(16 * 32)).flatMap { colours[$0 % 32 / 16] }
        let file = directory.appendingPathComponent("colour.jpg").path
        try JPEGImage.write(PNGImage(width: 32, height: 16, channels: 3, pixels: pixels), path: file, quality: 100)
        let image = try JPEGImage.read(path: file, channels: channels)
        #expect(image.width == 32 && image.height == 16 && image.channels == channels)
        for (index, colour) in colours.enumerated() {
            let at = (8 * 32 + 16 * index + 8) * channels
            let read = Array(image.pixels[at..<(at + channels)])
            // Gray is libjpeg's luma, Y = 0.299 R + 0.587 G + 0.114 B; alpha is opaque.
            let (red, green, blue) = (Double(colour[0]), Double(colour[1]), Double(colour[2]))
            let luma: Double = 0.299 * red + 0.587 * green + 0.114 * blue
            let expected: [UInt8] = channels == 1 ? [UInt8(luma.rounded())] : channels == 3 ? colour : colour + [255]
            #expect(zip(read, expected).allSatisfy { abs(Int($0) - Int($1)) <= 3 }, "read \(read), expected \(expected)")
        }
        #expect(try JPEGImage.shape(path: file) == (16, 32, 3))
    }

    /// A progressive file (SOF2) decodes to the same pixels as the baseline file of the same
    /// image: progression reorders the coefficients, it does not change them.
    @Test func progressiveEqualsBaseline() throws {
        let pixels = (0..<(40 * 24 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 120 * 13) }
        let baseline = try Self.encode(pixels, width: 40, height: 24, format: TJPF_RGB, subsampling: TJSAMP_420, quality: 90)
        let progressive = try Self.encode(pixels, width: 40, height: 24, format: TJPF_RGB, subsampling: TJSAMP_420,
                                          quality: 90, flags: Int32(TJFLAG_PROGRESSIVE))
        #expect(zip(progressive, progressive.dropFirst()).contains { $0 == 0xFF && $1 == 0xC2 })
        let read = try JPEGImage.read(path: save(progressive, as: "progressive.jpg"), channels: 3)
        #expect(read == (try JPEGImage.read(path: save(baseline, as: "baseline.jpg"), channels: 3)))
    }

    /// A gray JPEG has one channel; read as colour its R, G and B are equal, and alpha is 255.
    @Test func grayReadsAsEveryChannelCount() throws {
        let file = try save(Self.encode(Self.blocks, width: 24, height: 16, format: TJPF_GRAY, subsampling: TJSAMP_GRAY))
        #expect(try JPEGImage.shape(path: file) == (16, 24, 1))
        let gray = try JPEGImage.read(path: file, channels: 1)
        #expect(zip(gray.pixels, Self.blocks).allSatisfy { abs(Int($0) - Int($1)) <= 2 })
        let rgb = try JPEGImage.read(path: file, channels: 3), rgba = try JPEGImage.read(path: file, channels: 4)
        #expect(rgb.pixels == gray.pixels.flatMap { [$0, $0, $0] })
        #expect(rgba.pixels == gray.pixels.flatMap { [$0, $0, $0, 255] })
    }

    /// CMYK (here YCCK, as TurboJPEG writes it) is refused, by `read` and `shape`, with a hint.
    @Test func cmykIsALocatedProblem() throws {
        let pixels = (0..<(16 * 16)).flatMap { _ in [UInt8]([10, 200, 30, 0]) }
        let file = try save(Self.encode(pixels, width: 16, height: 16, format: TJPF_CMYK, subsampling: TJSAMP_444))
        for attempt in [{ _ = try JPEGImage.read(path: file, channels: 3) }, { _ = try JPEGImage.shape(path: file) }] {
            let problem = try #require(throws: Problem.self, performing: attempt)
            #expect(problem.location?.file == file)
            #expect(problem.message == "the file is a CMYK JPEG, which image inputs do not read")
            #expect(problem.hint?.contains("-colorspace sRGB") == true)
        }
    }

    /// Each orientation turns the blocks a b c / d e f as TIFF 6.0 says, both byte orders; the
    /// shape from the header is the upright one.
    @Test(arguments: [
        (1, [[0, 1, 2], [3, 4, 5]]), (2, [[2, 1, 0], [5, 4, 3]]), (3, [[5, 4, 3], [2, 1, 0]]), (4, [[3, 4, 5], [0, 1, 2]]),
        (5, [[0, 3], [1, 4], [2, 5]]), (6, [[3, 0], [4, 1], [5, 2]]), (7, [[5, 2], [4, 1], [3, 0]]), (8, [[2, 5], [1, 4], [0, 3]]),
    ])
    func exifOrientation(orientation: Int, expected: [[Int]]) throws {
        let jpeg = try Self.encode(Self.blocks, width: 24, height: 16, format: TJPF_GRAY, subsampling: TJSAMP_GRAY)
        let file = try save(Array(jpeg[0..<2]) + Self.exifSegment(orientation: orientation, bigEndian: orientation % 2 == 0)
                            + jpeg[2...])
        let image = try JPEGImage.read(path: file, channels: 3)
        #expect(image.height == expected.count * 8 && image.width == expected[0].count * 8)
        #expect(try JPEGImage.shape(path: file) == (image.height, image.width, 1))
        for (y, row) in expected.enumerated() {
            for (x, level) in row.enumerated() {
                #expect(abs(Self.block(image, x: x, y: y) - (20 + 40 * level)) <= 2, "block (\(x), \(y))")
            }
        }
    }

    /// An orientation outside 1...8, or an Exif segment cut short, leaves the image as stored.
    @Test func badExifIsIgnored() throws {
        let jpeg = try Self.encode(Self.blocks, width: 24, height: 16, format: TJPF_GRAY, subsampling: TJSAMP_GRAY)
        var short = Self.exifSegment(orientation: 6, bigEndian: true)
        short.removeLast(16)
        short[2...3] = [UInt8((short.count - 2) >> 8), UInt8((short.count - 2) & 0xFF)]
        for segment in [Self.exifSegment(orientation: 9, bigEndian: false), short] {
            let file = try save(Array(jpeg[0..<2]) + segment + jpeg[2...])
            #expect(try JPEGImage.shape(path: file) == (16, 24, 1))
            let image = try JPEGImage.read(path: file, channels: 1)
            #expect(image.width == 24 && image.height == 16 && abs(Self.block(image, x: 0, y: 1) - 140) <= 2)
        }
    }

    /// A file cut anywhere, or with a damaged header or scan, is a problem naming the file.
    @Test func truncatedAndCorruptFilesAreLocated() throws {
        let jpeg = try Self.encode((0..<(32 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 * 31) }, width: 32, height: 32,
                                   format: TJPF_RGB, subsampling: TJSAMP_420, quality: 80)
        let frame = try #require(zip(jpeg.indices, jpeg.dropFirst()).first { jpeg[$0.0] == 0xFF && $0.1 == 0xC0 }?.0)
        let scan = try #require(zip(jpeg.indices, jpeg.dropFirst()).first { jpeg[$0.0] == 0xFF && $0.1 == 0xDA }?.0)
        var badPrecision = jpeg
        badPrecision[frame + 4] = 3
        var markerInScan = jpeg
        markerInScan[(scan + 20)...(scan + 21)] = [0xFF, 0xD5]
        let cases: [([UInt8], String)] = [
            (Array(jpeg.prefix(jpeg.count / 2)), "the file is truncated or corrupt: "),
            (Array(jpeg.prefix(frame + 6)), "the file is truncated or corrupt: "),
            (Array(jpeg.prefix(2)), "the file is truncated: it ends inside the JPEG signature"),
            (badPrecision, "the file is truncated or corrupt: "),
            (markerInScan, "the file is truncated or corrupt: "),
            ([], "the file is empty, not a JPEG file"),
            (Array("GIF89a".utf8), "the file is not a JPEG file"),
        ]
        for (bytes, message) in cases {
            let file = try save(bytes)
            let problem = try #require(throws: Problem.self) { try JPEGImage.read(path: file, channels: 3) }
            #expect(problem.location?.file == file)
            #expect(problem.message.hasPrefix(message), "\(problem.message)")
        }
    }

    /// A header claiming 60000 × 60000 pixels (libjpeg's limit is 65500 a side) is refused
    /// before any buffer is made.
    @Test func headerClaimingTooManyPixels() throws {
        var jpeg = try Self.encode(Self.blocks, width: 24, height: 16, format: TJPF_GRAY, subsampling: TJSAMP_GRAY)
        let frame = try #require(zip(jpeg.indices, jpeg.dropFirst()).first { jpeg[$0.0] == 0xFF && $0.1 == 0xC0 }?.0)
        jpeg[(frame + 5)...(frame + 8)] = [0xEA, 0x60, 0xEA, 0x60]
        let problem = try #require(throws: Problem.self) { try JPEGImage.read(path: save(jpeg), channels: 1) }
        #expect(problem.message == "the file is 60000×60000 pixels, more than the \(PNGImage.maximumPixelCount) allowed")
    }

    /// The format comes from the first byte, not the name: a PNG named .jpg and a JPEG named
    /// .png read; anything else is neither.
    @Test func imageFileGoesBySignature() throws {
        let png = directory.appendingPathComponent("really-a-png.jpg").path
        let image = PNGImage(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 9) })
        try image.write(path: png)
        #expect(try ImageFile.read(path: png, channels: 3) == image)
        #expect(try ImageFile.shape(path: png) == (2, 3, 3))
        let jpeg = try save(Self.encode(Self.blocks, width: 24, height: 16, format: TJPF_GRAY, subsampling: TJSAMP_GRAY),
                            as: "really-a-jpeg.png")
        #expect(try ImageFile.read(path: jpeg, channels: 1).width == 24)
        let others: [([UInt8], String)] = [
            (Array("GIF89a".utf8), "the file is neither a PNG nor a JPEG file"), ([], "the file is empty, not an image file"),
        ]
        for (bytes, message) in others {
            let file = try save(bytes, as: "other.png")
            let problem = try #require(throws: Problem.self) { try ImageFile.read(path: file, channels: 3) }
            #expect(problem.message == message && problem.location?.file == file)
        }
    }
}
