import Foundation
import Testing
import FileFormats
import HandMadePNG

/// Reading every colour type and bit depth, writing 8-bit images, resizing, and the errors a
/// damaged or missing file gives.
final class PNGImageTests {
    /// A fresh directory per test (Swift Testing makes an instance per test), so that tests
    /// running in parallel share no files; removed when the test ends, whatever its outcome.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("PNGImageTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func save(_ bytes: [UInt8], as name: String) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func read(_ bytes: [UInt8], channels: Int) throws -> PNGImage {
        try PNGImage.read(path: save(bytes, as: "fixture.png"), channels: channels)
    }

    @Test(arguments: [1, 3, 4])
    func eightBitImagesRoundTripExactly(channels: Int) throws {
        // 7×5 so that no row is a multiple of 4 bytes; every value 0...255 occurs, alpha too.
        let pixels = (0..<(7 * 5 * channels)).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        let image = PNGImage(width: 7, height: 5, channels: channels, pixels: pixels)
        let file = path("roundtrip.png")
        try image.write(path: file)
        #expect(try PNGImage.read(path: file, channels: channels) == image)
    }

    /// The header alone gives the size and the channels a file has: gray 1, gray with alpha and
    /// RGBA 4, RGB and a palette 3 (a palette with transparency 4); a file that is no PNG is
    /// refused as `read` refuses it.
    @Test func shapeFromTheHeader() throws {
        let cases: [(UInt8, Int, [UInt8]?, [UInt8]?, Int)] = [
            (HandMadePNG.gray, 1, nil, nil, 1), (HandMadePNG.grayAlpha, 2, nil, nil, 4), (HandMadePNG.rgb, 3, nil, nil, 3),
            (HandMadePNG.rgba, 4, nil, nil, 4), (HandMadePNG.palette, 1, [1, 2, 3, 4, 5, 6], nil, 3),
            (HandMadePNG.palette, 1, [1, 2, 3, 4, 5, 6], [0, 255], 4),
        ]
        for (type, samples, palette, transparency, channels) in cases {
            let rows = (0..<3).map { _ in [Int](repeating: 1, count: 5 * samples) }
            let file = try save(HandMadePNG.file(width: 5, bitDepth: 8, colorType: type, rows: rows, palette: palette,
                                                 transparency: transparency), as: "shape.png")
            let shape = try PNGImage.shape(path: file)
            #expect(shape.height == 3 && shape.width == 5 && shape.channels == channels, "colour type \(type)")
        }
        let text = try save(Array("not a png".utf8), as: "text.png")
        #expect(throws: Problem.self) { try PNGImage.shape(path: text) }
    }

    /// For bit depth d, sample 1 (or 257 at 16 bits) is the smallest step that maps to a whole
    /// 8-bit value: 255 / (2^d - 1).
    @Test(arguments: [(1, 1, 255), (2, 1, 85), (4, 1, 17), (8, 1, 1), (16, 257, 1)])
    func grayOfEveryDepthScalesToEightBits(depth: Int, unit: Int, expected: UInt8) throws {
        let maximum = (1 << depth) - 1
        let png = HandMadePNG.file(width: 3, bitDepth: UInt8(depth), colorType: HandMadePNG.gray,
                                   rows: [[0, maximum, unit], [unit, 0, maximum]])
        let gray = try read(png, channels: 1)
        #expect(gray.width == 3 && gray.height == 2)
        #expect(gray.pixels == [0, 255, expected, expected, 0, 255])
        let rgb = try read(png, channels: 3)
        #expect(rgb.pixels == gray.pixels.flatMap { [$0, $0, $0] })
        let rgba = try read(png, channels: 4)
        #expect(rgba.pixels == gray.pixels.flatMap { [$0, $0, $0, 255] })
    }

    /// 0x8080 reads as 128, not 188: a 16-bit file without gamma information is taken as sRGB.
    @Test func sixteenBitRGBScalesWithoutGammaChange() throws {
        let png = HandMadePNG.file(width: 3, bitDepth: 16, colorType: HandMadePNG.rgb,
                                   rows: [[0xFFFF, 0x8080, 0x0000, 0x4040, 0x1010, 0xFFFF, 0x8080, 0x8080, 0x8080]])
        #expect(try read(png, channels: 3).pixels == [255, 128, 0, 64, 16, 255, 128, 128, 128])
        #expect(try read(png, channels: 4).pixels == [255, 128, 0, 255, 64, 16, 255, 255, 128, 128, 128, 255])
        #expect(try read(png, channels: 1).pixels[2] == 128)
    }

    @Test func sixteenBitRGBAKeepsAlpha() throws {
        let png = HandMadePNG.file(width: 2, bitDepth: 16, colorType: HandMadePNG.rgba,
                                   rows: [[0xFFFF, 0x0000, 0x8080, 0xFFFF, 0x4040, 0x4040, 0x4040, 0x0000]])
        // The colour of a fully transparent pixel is kept when alpha is; compositing drops it.
        #expect(try read(png, channels: 4).pixels == [255, 0, 128, 255, 64, 64, 64, 0])
        #expect(try read(png, channels: 3).pixels == [255, 0, 128, 0, 0, 0])
    }

    @Test func grayAlphaExpandsOrCompositesOntoBlack() throws {
        let png = HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.grayAlpha,
                                   rows: [[100, 255, 50, 0], [200, 255, 7, 255]])
        #expect(try read(png, channels: 4).pixels == [100, 100, 100, 255, 50, 50, 50, 0,
                                                      200, 200, 200, 255, 7, 7, 7, 255])
        #expect(try read(png, channels: 1).pixels == [100, 0, 200, 7])
        #expect(try read(png, channels: 3).pixels == [100, 100, 100, 0, 0, 0, 200, 200, 200, 7, 7, 7])
    }

    /// A 4-bit palette of four colours; tRNS lists alpha for the first three only, so the
    /// fourth is opaque.
    @Test func paletteWithTransparency() throws {
        let png = HandMadePNG.file(width: 2, bitDepth: 4, colorType: HandMadePNG.palette, rows: [[0, 1], [2, 3]],
                                   palette: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30],
                                   transparency: [255, 0, 128])
        #expect(try read(png, channels: 4).pixels == [255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 128, 10, 20, 30, 255])
        let rgb = try read(png, channels: 3).pixels
        // Pixel 2 is half-transparent blue composited in linear light; the others are exact.
        #expect(Array(rgb[0..<6]) == [255, 0, 0, 0, 0, 0])
        #expect(Array(rgb[9..<12]) == [10, 20, 30])
    }

    @Test func paletteWithoutTransparency() throws {
        let png = HandMadePNG.file(width: 3, bitDepth: 8, colorType: HandMadePNG.palette, rows: [[2, 0, 1]],
                                   palette: [1, 2, 3, 40, 50, 60, 250, 251, 252])
        #expect(try read(png, channels: 3).pixels == [250, 251, 252, 1, 2, 3, 40, 50, 60])
        #expect(try read(png, channels: 4).pixels == [250, 251, 252, 255, 1, 2, 3, 255, 40, 50, 60, 255])
    }

    /// Colour to gray weighs R, G and B by 0.2126, 0.7152, 0.0722 in linear light: pure red is
    /// 0.2126 linear, which sRGB-encodes to 0.4985, i.e. 127 of 255. Allow 1 for libpng's
    /// fixed-point weights and tables.
    @Test func colourBecomesGrayInLinearLight() throws {
        let image = PNGImage(width: 3, height: 1, channels: 3, pixels: [255, 0, 0, 90, 90, 90, 255, 255, 255])
        let file = path("colour.png")
        try image.write(path: file)
        let gray = try PNGImage.read(path: file, channels: 1).pixels
        #expect(abs(Int(gray[0]) - 127) <= 1, "pure red read as gray \(gray[0]), expected 127 ± 1")
        #expect(Array(gray[1...]) == [90, 255])
    }

    /// Source [[0, 100], [200, 40]]. Half-pixel centres put output columns at source x = 0
    /// (clamped from -0.25), 0.25, 0.75, 1 (clamped from 1.25), and rows likewise, so the
    /// top row is [0, 25, 75, 100], the bottom [200, 160, 80, 40], and row 1 lies a quarter of
    /// the way down: [50, 58.75, 76.25, 85], row 2 three quarters: [150, 126.25, 78.75, 55].
    @Test func bilinearResizeOfTwoByTwo() {
        let gray = PNGImage(width: 2, height: 2, channels: 1, pixels: [0, 100, 200, 40]).resized(width: 4, height: 4)
        let expected: [UInt8] = [0, 25, 75, 100,
                                 50, 59, 76, 85,
                                 150, 126, 79, 55,
                                 200, 160, 80, 40]
        #expect(gray.width == 4 && gray.height == 4 && gray.channels == 1)
        #expect(gray.pixels == expected)

        // Channels are resampled independently: G is 255 - R, so its result is 255 - R's.
        let rgbPixels: [UInt8] = [0, 255, 7, 100, 155, 7, 200, 55, 7, 40, 215, 7]
        let rgb = PNGImage(width: 2, height: 2, channels: 3, pixels: rgbPixels).resized(width: 4, height: 4)
        #expect(rgb.pixels == expected.flatMap { [$0, 255 - $0, 7] })
    }

    @Test func resizeToTheSameSizeIsIdentity() {
        let image = PNGImage(width: 5, height: 3, channels: 4, pixels: (0..<60).map { UInt8($0 * 4) })
        #expect(image.resized(width: 5, height: 3) == image)
    }

    @Test func missingFile() throws {
        let file = path("absent.png")
        let error = #expect(throws: Problem.self) { try PNGImage.read(path: file, channels: 3) }
        #expect(error?.location?.file == file)
        #expect(error?.message.hasPrefix("the file cannot be opened: No such file") == true)
    }

    @Test(arguments: [Array("not an image at all".utf8), [], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x00]])
    func notAPNG(bytes: [UInt8]) throws {
        let error = #expect(throws: Problem.self) { try read(bytes, channels: 1) }
        #expect(error?.message == (bytes.isEmpty ? "the file is empty, not a PNG file" : "the file is not a PNG file"))
        #expect(error?.description.contains("fixture.png") == true)
    }

    /// Every cut before the end of the image data fails without a crash: inside the signature,
    /// IHDR, IDAT or IDAT's CRC. A file cut after that (only IEND missing) reads, since libpng
    /// stops at the end of the image data.
    @Test func truncatedFile() throws {
        let png = HandMadePNG.file(width: 4, bitDepth: 8, colorType: HandMadePNG.rgb,
                                   rows: Array(repeating: Array(0..<12), count: 3))
        let imageDataEnd = png.count - 12  // IEND is the final 12 bytes
        for length in 1..<imageDataEnd {
            let error = #expect(throws: Problem.self, "cut to \(length) bytes") {
                try read(Array(png.prefix(length)), channels: 3)
            }
            #expect(error?.message.hasPrefix("the file is truncated") == true, "cut to \(length) bytes: \(String(describing: error))")
        }
        #expect(try read(Array(png.prefix(imageDataEnd)), channels: 3).pixels == Array(repeating: Array(0..<12), count: 3).flatMap { $0 })
    }

    @Test func damagedChecksum() throws {
        var png = HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[1, 2], [3, 4]])
        png[png.count - 13] ^= 0xFF  // last byte of IDAT's CRC; IEND is the final 12 bytes
        let error = #expect(throws: Problem.self) { try read(png, channels: 1) }
        #expect(error?.message.hasPrefix("the file is truncated or corrupt: ") == true)
        #expect(error?.message.contains("CRC") == true, "libpng's reason should be kept: \(String(describing: error))")
    }

    /// The header alone claims 10^10 pixels; the read must stop before allocating for them.
    @Test func headerClaimingTooManyPixels() throws {
        var png = HandMadePNG.file(width: 1, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[9]])
        let header = HandMadePNG.bigEndian(100_000) + HandMadePNG.bigEndian(100_000) + [8, HandMadePNG.gray, 0, 0, 0]
        png.replaceSubrange(8..<33, with: HandMadePNG.chunk("IHDR", header))
        let error = #expect(throws: Problem.self) { try read(png, channels: 1) }
        #expect(error?.message == "the file is 100000×100000 pixels, more than the \(PNGImage.maximumPixelCount) allowed")
    }

    /// A header within the pixel limit but far beyond what the file's bytes can decompress to
    /// (found by the PNG fuzzer: every read of 105 bytes zero-filled a gigabyte) is refused
    /// before any buffer is made.
    @Test func headerClaimingMorePixelsThanTheFileCanHold() throws {
        var png = HandMadePNG.file(width: 1, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[9]])
        let header = HandMadePNG.bigEndian(16_384) + HandMadePNG.bigEndian(16_384) + [8, HandMadePNG.rgba, 0, 0, 0]
        png.replaceSubrange(8..<33, with: HandMadePNG.chunk("IHDR", header))
        let error = #expect(throws: Problem.self) { try read(png, channels: 4) }
        #expect(error?.message == "the file is truncated or corrupt: its header claims 16384×16384 pixels, more than its \(png.count) bytes can hold")
    }

    @Test func unsupportedChannelCount() throws {
        let file = try save(HandMadePNG.file(width: 1, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[9]]), as: "one.png")
        let error = #expect(throws: Problem.self) { try PNGImage.read(path: file, channels: 2) }
        #expect(error?.message == "the file cannot be read as 2 channels; use 1 (gray), 3 (RGB) or 4 (RGBA)")
    }

    @Test func unwritablePath() throws {
        let file = path("no-such-directory/out.png")
        let image = PNGImage(width: 1, height: 1, channels: 1, pixels: [0])
        let error = #expect(throws: Problem.self) { try image.write(path: file) }
        #expect(error?.location?.file == file)
        #expect(error?.message.hasPrefix("the file cannot be written: ") == true)
    }
}
