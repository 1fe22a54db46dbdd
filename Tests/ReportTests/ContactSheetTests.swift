import FileFormats
import Foundation
import Testing
@testable import Report
@testable import Training

@Suite struct ContactSheetTests {
    /// A thumbnail of one colour, `value` in every sample.
    static func plain(width: Int, height: Int, value: UInt8 = 255, captions: [String] = []) -> ContactSheet.Thumbnail {
        ContactSheet.Thumbnail(width: width, height: height, channels: 3,
                               pixels: [UInt8](repeating: value, count: width * height * 3), captions: captions)
    }

    /// The RGB samples of the sheet's pixel at (x, y).
    static func pixel(_ image: PNGImage, _ x: Int, _ y: Int) -> [UInt8] {
        let offset = (y * image.width + x) * 3
        return Array(image.pixels[offset..<(offset + 3)])
    }

    /// Coordinates of every pixel darker than mid-gray in any channel: caption and title ink.
    static func darkPixels(_ image: PNGImage) -> [(x: Int, y: Int)] {
        var dark: [(x: Int, y: Int)] = []
        for y in 0..<image.height {
            for x in 0..<image.width where pixel(image, x, y).contains(where: { $0 < 128 }) {
                dark.append((x, y))
            }
        }
        return dark
    }

    @Test func sheetHasTheDimensionsOfItsLayout() {
        // 16×16 thumbnails are magnified 8 times to 128-pixel tiles; two caption lines add
        // 3 + 2 × 10 rows; 10 thumbnails in 4 columns make 3 rows; the title takes 16 + 8 rows.
        let thumbnails = (0..<10).map { _ in Self.plain(width: 16, height: 16, captions: ["a", "b"]) }
        let sheet = ContactSheet(title: "t", thumbnails: thumbnails, columns: 4).render()
        let tileHeight = 128 + 3 + 2 * 10
        #expect(sheet.channels == 3)
        #expect(sheet.width == 8 + 4 * 128 + 3 * 8 + 8)
        #expect(sheet.height == 8 + 16 + 8 + 3 * tileHeight + 2 * 8 + 8)

        // The default magnification shows 64×64 at 128 pixels and never shrinks 200×200.
        #expect(ContactSheet.Layout(ContactSheet(thumbnails: [Self.plain(width: 64, height: 64)])).scale == 2)
        #expect(ContactSheet.Layout(ContactSheet(thumbnails: [Self.plain(width: 200, height: 200)])).scale == 1)
    }

    @Test func thumbnailPixelsLandScaledInTheirTile() {
        // 20×10 thumbnails at scale 3 make 60×30 tiles; the third of three in two columns is
        // the first of the second row, below a 30-row tile and an 8-row gap.
        var samples = [UInt8](repeating: 0, count: 20 * 10 * 3)
        for y in 0..<10 {
            for x in 0..<20 {
                samples[(y * 20 + x) * 3 + 0] = UInt8(x * 12)
                samples[(y * 20 + x) * 3 + 1] = UInt8(y * 25)
                samples[(y * 20 + x) * 3 + 2] = 77
            }
        }
        let distinct = ContactSheet.Thumbnail(width: 20, height: 10, channels: 3, pixels: samples)
        let other = Self.plain(width: 20, height: 10, value: 200)
        let sheet = ContactSheet(thumbnails: [other, other, distinct], columns: 2, scale: 3).render()
        let left = 8, top = 8 + 30 + 8
        #expect(ContactSheet.Layout(ContactSheet(thumbnails: [other, other, distinct], columns: 2, scale: 3))
            .tileOrigin(2) == (left, top))
        var mismatches = 0
        for y in 0..<30 {
            for x in 0..<60 {
                let source = ((y / 3) * 20 + x / 3) * 3
                if Self.pixel(sheet, left + x, top + y) != Array(samples[source..<(source + 3)]) { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        // Just outside the tile is background.
        #expect(Self.pixel(sheet, left + 60, top) == [255, 255, 255])
        #expect(Self.pixel(sheet, left, top + 30) == [255, 255, 255])
    }

    @Test func smallerThumbnailsAreCentredOnABacking() {
        // The 10×5 thumbnail shows at 30×15 in a 60×30 tile: 15 columns and 7 rows in.
        let sheet = ContactSheet(thumbnails: [Self.plain(width: 20, height: 10, value: 0),
                                              Self.plain(width: 10, height: 5, value: 0)], scale: 3).render()
        let left = 8 + 60 + 8, top = 8
        #expect(Self.pixel(sheet, left + 15, top + 7) == [0, 0, 0])
        #expect(Self.pixel(sheet, left + 44, top + 21) == [0, 0, 0])
        #expect(Self.pixel(sheet, left + 14, top + 7) == ContactSheet.backing)
        #expect(Self.pixel(sheet, left + 45, top + 22) == ContactSheet.backing)
        #expect(Self.pixel(sheet, left, top) == ContactSheet.backing)
    }

    @Test func captionsInkOnlyTheirTilesCaptionBand() {
        let captions = ["#17 loss 2.31", "label: red", "pred: blue"]
        let thumbnails = (0..<5).map { _ in Self.plain(width: 32, height: 32, captions: captions) }
        let contactSheet = ContactSheet(thumbnails: thumbnails, columns: 3)
        let layout = ContactSheet.Layout(contactSheet)
        let sheet = contactSheet.render()
        let dark = Self.darkPixels(sheet)
        #expect(!dark.isEmpty)
        for index in 0..<thumbnails.count {
            let tile = layout.tileOrigin(index)
            for line in 0..<captions.count {
                let bandTop = tile.y + layout.imageHeight + 3 + line * 10
                let inLine = dark.filter {
                    $0.x >= tile.x && $0.x < tile.x + layout.tileWidth && $0.y >= bandTop && $0.y < bandTop + 8
                }
                #expect(!inLine.isEmpty, "tile \(index) caption line \(line) has no ink")
            }
        }
        let stray = dark.filter { point in
            !(0..<thumbnails.count).contains { index in
                let tile = layout.tileOrigin(index)
                return point.x >= tile.x && point.x < tile.x + layout.tileWidth
                    && point.y >= tile.y + layout.imageHeight && point.y < tile.y + layout.tileHeight
            }
        }
        #expect(stray.isEmpty, "ink outside caption bands at \(stray.prefix(5))")
    }

    @Test func truncationKeepsTextInsideItsTile() {
        let long = "label: a class name far longer than any tile"
        let truncated = BitmapFont.truncated(long, toWidth: 64)
        #expect(truncated.hasSuffix(".."))
        #expect(BitmapFont.textWidth(truncated) <= 64)
        #expect(BitmapFont.textWidth(String(truncated.dropLast(2)) + "x..") > 64)
        #expect(BitmapFont.truncated("short", toWidth: 64) == "short")
        #expect(BitmapFont.truncated("abc", toWidth: 4) == "")

        let contactSheet = ContactSheet(title: String(repeating: "W", count: 400),
                                        thumbnails: [Self.plain(width: 32, height: 32, captions: [long]),
                                                     Self.plain(width: 32, height: 32, captions: [long])])
        let layout = ContactSheet.Layout(contactSheet)
        let sheet = contactSheet.render()
        #expect(sheet.width == ContactSheet.maximumSide)
        let captionTop = layout.gridTop + layout.imageHeight
        for point in Self.darkPixels(sheet) {
            if point.y < captionTop {
                // Title ink stays inside the right margin.
                #expect(point.x < sheet.width - 8)
            } else {
                let tile = layout.tileOrigin(point.x < layout.tileOrigin(1).x ? 0 : 1)
                #expect(point.x >= tile.x && point.x < tile.x + layout.tileWidth)
            }
        }
    }

    @Test func grayAlphaAndRGBAConvertToRGBOnWhite() {
        let gray = ContactSheet.Thumbnail(width: 3, height: 1, channels: 1, pixels: [0, 128, 255])
        #expect(gray.rgb == [0, 0, 0, 128, 128, 128, 255, 255, 255])

        // Half-transparent black over white is (255 × 127 + 127) / 255 = 127 after rounding.
        let grayAlpha = ContactSheet.Thumbnail(width: 3, height: 1, channels: 2, pixels: [100, 255, 100, 0, 0, 128])
        #expect(grayAlpha.rgb == [100, 100, 100, 255, 255, 255, 127, 127, 127])

        let rgba = ContactSheet.Thumbnail(image: PNGImage(width: 3, height: 1, channels: 4,
                                                          pixels: [10, 20, 30, 255, 10, 20, 30, 0, 255, 0, 0, 128]))
        #expect(rgba.rgb == [10, 20, 30, 255, 255, 255, 255, 127, 127])

        // A fully transparent pixel is white on the sheet, not the black it stores.
        let clear = PNGImage(width: 16, height: 16, channels: 4, pixels: [UInt8](repeating: 0, count: 16 * 16 * 4))
        let sheet = ContactSheet(thumbnails: [ContactSheet.Thumbnail(image: clear)], scale: 1).render()
        #expect(Self.darkPixels(sheet).isEmpty)
    }

    @Test func renderedSheetSurvivesAPNGRoundTrip() throws {
        var samples = [UInt8](repeating: 0, count: 24 * 24)
        for i in samples.indices { samples[i] = UInt8(i * 7 % 256) }
        let thumbnail = ContactSheet.Thumbnail(image: PNGImage(width: 24, height: 24, channels: 1, pixels: samples),
                                               captions: ["#3 loss 0.12", "label: 7", "pred: 1"])
        let sheet = ContactSheet(title: "digits", thumbnails: [thumbnail, thumbnail, thumbnail]).render()
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("contact-sheet-\(ProcessInfo.processInfo.processIdentifier).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try sheet.write(path: path)
        #expect(try PNGImage.read(path: path, channels: 3) == sheet)
    }

    @Test func emptySheetSaysNoSamples() {
        let sheet = ContactSheet(title: "task colour", thumbnails: []).render()
        #expect(sheet.width == 8 + BitmapFont.textWidth("task colour", scale: 2) + 8)
        #expect(sheet.height == 8 + 16 + 8 + 16 + 8)
        // Ink in the title line and in the "no samples" line.
        let dark = Self.darkPixels(sheet)
        #expect(dark.contains { $0.y < 8 + 16 })
        #expect(dark.contains { $0.y >= 8 + 16 + 8 })
    }

    @Test func manyThumbnailsAreCappedWithAFooter() {
        let thumbnails = [ContactSheet.Thumbnail](repeating: Self.plain(width: 64, height: 64, captions: ["x"]),
                                                  count: 2_000)
        let contactSheet = ContactSheet(thumbnails: thumbnails, columns: 100)
        let layout = ContactSheet.Layout(contactSheet)
        let sheet = contactSheet.render()
        #expect(sheet.width <= ContactSheet.maximumSide && sheet.height <= ContactSheet.maximumSide)
        #expect(layout.columns == 30)
        #expect(layout.shown < thumbnails.count && layout.shown % layout.columns == 0)
        // The footer line has ink below the last row of tiles.
        #expect(Self.darkPixels(sheet).contains { $0.y >= layout.footerTop })
    }

    @Test func everyPrintableGlyphIsDrawnAndDistinct() {
        var glyphs: [[UInt8]] = []
        for code in 32...126 {
            let start = BitmapFont.glyphStart(Character(Unicode.Scalar(UInt8(code))))
            let rows = Array(BitmapFont.glyphRows[start..<(start + BitmapFont.glyphHeight)])
            #expect(rows.contains { $0 != 0 } == (code != 32), "glyph \(code)")
            #expect(rows.allSatisfy { $0 < 0x20 }, "glyph \(code) is wider than 5 pixels")
            glyphs.append(rows)
        }
        #expect(BitmapFont.glyphRows.count == 95 * BitmapFont.glyphHeight)
        for a in glyphs.indices {
            for b in glyphs.indices where b > a {
                #expect(glyphs[a] != glyphs[b], "glyphs \(a + 32) and \(b + 32) are the same")
            }
        }
        #expect(BitmapFont.glyphStart("é") == BitmapFont.glyphStart("?"))
        #expect(BitmapFont.glyphStart("\n") == BitmapFont.glyphStart("?"))
    }

    @Test func drawingClipsToTheImage() {
        var pixels = [UInt8](repeating: 0, count: 10 * 6)
        BitmapFont.draw("HH", into: &pixels, width: 10, height: 6, channels: 1, x: -3, y: -2, scale: 2, color: [200])
        BitmapFont.draw("H", into: &pixels, width: 10, height: 6, channels: 1, x: 8, y: 4, color: [200])
        // H's left stem at x = -3 falls off; its right stem (column 4, doubled) lands at 5 and 6.
        #expect(pixels[0 * 10 + 5] == 200 && pixels[0 * 10 + 6] == 200)
        #expect(pixels[5 * 10 + 8] == 200)
        #expect(BitmapFont.textWidth("HH", scale: 2) == 22)
        #expect(BitmapFont.textWidth("") == 0)
    }
}
