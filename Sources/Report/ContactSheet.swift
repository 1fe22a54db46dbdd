import FileFormats
import Training

/// A grid of image thumbnails, each with up to three caption lines under it (for example the
/// sample's index and loss, its label and the prediction), and an optional title on top,
/// rendered as one RGB image for a report.
///
/// Every tile has the size of the largest thumbnail, magnified by an integer factor with
/// nearest-neighbour sampling so that the pixels a model saw stay visible as pixels; smaller
/// thumbnails are centred in their tile on a gray backing that shows their extent. Captions
/// longer than a tile is wide end in "..". The sheet is kept within `maximumSide` pixels a side:
/// columns are dropped first, then trailing thumbnails, which a footer line counts.
public struct ContactSheet: Sendable {
    /// One image with its caption lines, already converted to RGB.
    public struct Thumbnail: Sendable, Equatable {
        public let width: Int
        public let height: Int
        /// `height × width × 3` samples, row-major.
        public let rgb: [UInt8]
        /// At most `ContactSheet.maximumCaptionLines`; further lines are dropped.
        public let captions: [String]

        /// A thumbnail of a gray, RGB or RGBA image.
        public init(image: PNGImage, captions: [String] = []) {
            self.init(width: image.width, height: image.height, channels: image.channels,
                      pixels: image.pixels, captions: captions)
        }

        /// A thumbnail of 8-bit samples laid out as `height × width × channels`: gray (1), gray
        /// and alpha (2), RGB (3) or RGBA (4). Gray is copied into red, green and blue; alpha is
        /// composited onto white, the sheet's background, so a fully transparent pixel reads as
        /// empty paper rather than as whatever colour it happens to store.
        public init(width: Int, height: Int, channels: Int, pixels: [UInt8], captions: [String] = []) {
            precondition(width > 0 && height > 0, "a thumbnail needs at least one pixel, not \(width)×\(height)")
            precondition((1...4).contains(channels), "channels must be 1 to 4, not \(channels)")
            precondition(pixels.count == width * height * channels,
                         "\(width)×\(height)×\(channels) needs \(width * height * channels) samples, not \(pixels.count)")
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            // Gray formats keep their one colour sample first, alpha formats their alpha last.
            let hasColor = channels >= 3
            for pixel in 0..<(width * height) {
                let source = pixel * channels
                let alpha = channels == 2 || channels == 4 ? Int(pixels[source + channels - 1]) : 255
                for channel in 0..<3 {
                    let value = Int(pixels[source + (hasColor ? channel : 0)])
                    // Rounded to nearest: value × alpha + white × (1 - alpha), in units of 1/255.
                    rgb[pixel * 3 + channel] = UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
                }
            }
            self.width = width
            self.height = height
            self.rgb = rgb
            self.captions = Array(captions.prefix(ContactSheet.maximumCaptionLines))
        }
    }

    public let title: String?
    public let thumbnails: [Thumbnail]
    /// Tiles per row; fewer when there are fewer thumbnails or the row would be too wide.
    public let columns: Int
    /// Magnification of every thumbnail; nil chooses one that shows the largest at about
    /// `defaultTileSide` pixels (64×64 at 128, 28×28 at 112), never below 1.
    public let scale: Int?

    public static let maximumCaptionLines = 3
    public static let defaultTileSide = 128
    /// Thumbnails larger than this are shown reduced (by an integer factor, skipping pixels),
    /// so that one large image cannot make every tile huge.
    public static let maximumTileSide = 1024
    /// At most 4096 × 4096 RGB, 48 MiB in memory, which browsers still show without trouble.
    public static let maximumSide = 4096

    /// Around the sheet and between tiles.
    static let margin = 8
    /// Between a tile's image area and its first caption line.
    static let captionGap = 3
    /// Caption lines are a font cell plus two rows, so that descender-free 5×7 glyphs on
    /// consecutive lines do not read as one block.
    static let captionLineHeight = BitmapFont.cellHeight + 2
    /// Tiles are at least eight characters wide, so that captions keep a readable prefix
    /// even under tiny thumbnails.
    static let minimumTileWidth = BitmapFont.cellWidth * 8
    static let titleScale = 2
    static let titleHeight = BitmapFont.cellHeight * titleScale
    /// Behind a thumbnail smaller than its tile.
    static let backing: [UInt8] = [210, 210, 210]
    static let ink: [UInt8] = [0, 0, 0]

    public init(title: String? = nil, thumbnails: [Thumbnail], columns: Int = 8, scale: Int? = nil) {
        precondition(columns > 0, "columns must be positive, not \(columns)")
        precondition(scale.map { $0 > 0 } ?? true, "scale must be positive")
        self.title = title
        self.thumbnails = thumbnails
        self.columns = columns
        self.scale = scale
    }

    /// The sheet as an RGB image on a white background.
    public func render() -> PNGImage {
        let layout = Layout(self)
        // White, like the paper that alpha is composited onto.
        var pixels = [UInt8](repeating: 255, count: layout.width * layout.height * 3)
        let textWidth = layout.width - 2 * Self.margin
        if let title {
            text(BitmapFont.truncated(title, toWidth: textWidth, scale: Self.titleScale), into: &pixels, layout,
                 x: Self.margin, y: Self.margin, scale: Self.titleScale)
        }
        if thumbnails.isEmpty {
            text(BitmapFont.truncated("no samples", toWidth: textWidth, scale: Self.titleScale), into: &pixels,
                 layout, x: Self.margin, y: layout.gridTop, scale: Self.titleScale)
        }
        for index in 0..<layout.shown {
            drawTile(index, into: &pixels, layout)
        }
        if layout.shown < thumbnails.count {
            let footer = "\(thumbnails.count - layout.shown) more not shown"
            text(BitmapFont.truncated(footer, toWidth: textWidth), into: &pixels, layout,
                 x: Self.margin, y: layout.footerTop, scale: 1)
        }
        return PNGImage(width: layout.width, height: layout.height, channels: 3, pixels: pixels)
    }

    private func drawTile(_ index: Int, into pixels: inout [UInt8], _ layout: Layout) {
        let thumbnail = thumbnails[index]
        let tile = layout.tileOrigin(index)
        let shown = layout.displaySize(thumbnail)
        if shown.width < layout.tileWidth || shown.height < layout.imageHeight {
            for y in tile.y..<(tile.y + layout.imageHeight) {
                for x in tile.x..<(tile.x + layout.tileWidth) {
                    for channel in 0..<3 { pixels[(y * layout.width + x) * 3 + channel] = Self.backing[channel] }
                }
            }
        }
        let image = layout.imageOrigin(index, thumbnail)
        // Nearest neighbour: output pixel i shows source pixel ⌊i × source / shown⌋, which for a
        // magnification s is ⌊i / s⌋ (every source pixel an s × s block) and for a reduction
        // picks every r-th pixel.
        for y in 0..<shown.height {
            let sourceRow = y * thumbnail.height / shown.height
            for x in 0..<shown.width {
                let source = (sourceRow * thumbnail.width + x * thumbnail.width / shown.width) * 3
                let target = ((image.y + y) * layout.width + image.x + x) * 3
                for channel in 0..<3 { pixels[target + channel] = thumbnail.rgb[source + channel] }
            }
        }
        for (line, caption) in thumbnail.captions.enumerated() {
            text(BitmapFont.truncated(caption, toWidth: layout.tileWidth), into: &pixels, layout,
                 x: tile.x, y: tile.y + layout.imageHeight + Self.captionGap + line * Self.captionLineHeight, scale: 1)
        }
    }

    private func text(_ text: String, into pixels: inout [UInt8], _ layout: Layout, x: Int, y: Int, scale: Int) {
        BitmapFont.draw(text, into: &pixels, width: layout.width, height: layout.height, channels: 3,
                        x: x, y: y, scale: scale, color: Self.ink)
    }

    /// Where everything goes; computed once per render and used by the tests to find tiles.
    struct Layout {
        let width: Int
        let height: Int
        /// Magnification, or 1 when thumbnails are reduced instead.
        let scale: Int
        /// Reduction of every thumbnail, 1 unless the largest exceeds `maximumTileSide`.
        let reduction: Int
        let columns: Int
        /// How many thumbnails, from the first, fit on the sheet.
        let shown: Int
        let tileWidth: Int
        /// Height of a tile's image area; its caption band follows.
        let imageHeight: Int
        let tileHeight: Int
        let gridTop: Int
        let footerTop: Int

        init(_ sheet: ContactSheet) {
            let margin = ContactSheet.margin
            var largestWidth = 1, largestHeight = 1, captionLines = 0
            for thumbnail in sheet.thumbnails {
                largestWidth = max(largestWidth, thumbnail.width)
                largestHeight = max(largestHeight, thumbnail.height)
                captionLines = max(captionLines, thumbnail.captions.count)
            }
            let largestSide = max(largestWidth, largestHeight)
            let wanted = sheet.scale ?? max(1, ContactSheet.defaultTileSide / largestSide)
            if largestSide * wanted <= ContactSheet.maximumTileSide {
                scale = wanted
                reduction = 1
            } else {
                scale = 1
                reduction = (largestSide + ContactSheet.maximumTileSide - 1) / ContactSheet.maximumTileSide
            }
            let imageWidth = Self.displayed(largestWidth, scale: scale, reduction: reduction)
            imageHeight = Self.displayed(largestHeight, scale: scale, reduction: reduction)
            tileWidth = max(imageWidth, ContactSheet.minimumTileWidth)
            tileHeight = imageHeight
                + (captionLines == 0 ? 0 : ContactSheet.captionGap + captionLines * ContactSheet.captionLineHeight)

            // Tiles are at most maximumTileSide wide, so at least three columns fit; the floor of 1
            // is for a sheet without thumbnails, which still divides by `columns`.
            let fitting = (ContactSheet.maximumSide - margin) / (tileWidth + margin)
            columns = max(1, min(sheet.columns, sheet.thumbnails.count, fitting))
            gridTop = margin + (sheet.title == nil ? 0 : ContactSheet.titleHeight + margin)
            let footerHeight = BitmapFont.cellHeight + margin
            let rowsWanted = (sheet.thumbnails.count + columns - 1) / columns
            // Rows of at most maximumTileSide plus captions leave room for at least three on the
            // sheet, with or without the footer.
            let rowsFitting = (ContactSheet.maximumSide - gridTop) / (tileHeight + margin)
            if rowsWanted <= rowsFitting {
                shown = sheet.thumbnails.count
            } else {
                // The footer needs a line of its own, which may cost the last row.
                shown = (ContactSheet.maximumSide - gridTop - footerHeight) / (tileHeight + margin) * columns
            }
            let rows = (shown + columns - 1) / columns
            let gridWidth = columns * tileWidth + (columns - 1) * margin
            let gridHeight = rows == 0 ? 0 : rows * tileHeight + (rows - 1) * margin

            var textWidth = BitmapFont.textWidth(sheet.title ?? "", scale: ContactSheet.titleScale)
            var bottom = gridTop + gridHeight + margin
            if sheet.thumbnails.isEmpty {
                textWidth = max(textWidth, BitmapFont.textWidth("no samples", scale: ContactSheet.titleScale))
                bottom = gridTop + ContactSheet.titleHeight + margin
            }
            footerTop = bottom
            if shown < sheet.thumbnails.count { bottom += footerHeight }
            // Only a long title can make the sheet wider than the cap; it is truncated to fit.
            width = min(max(gridWidth, textWidth) + 2 * margin, ContactSheet.maximumSide)
            height = bottom
        }

        /// Top-left corner of tile `index`, counted row by row.
        func tileOrigin(_ index: Int) -> (x: Int, y: Int) {
            let margin = ContactSheet.margin
            return (margin + (index % columns) * (tileWidth + margin), gridTop + (index / columns) * (tileHeight + margin))
        }

        func displaySize(_ thumbnail: Thumbnail) -> (width: Int, height: Int) {
            (Self.displayed(thumbnail.width, scale: scale, reduction: reduction),
             Self.displayed(thumbnail.height, scale: scale, reduction: reduction))
        }

        /// Top-left corner of thumbnail `index`, centred in its tile's image area.
        func imageOrigin(_ index: Int, _ thumbnail: Thumbnail) -> (x: Int, y: Int) {
            let tile = tileOrigin(index)
            let shown = displaySize(thumbnail)
            return (tile.x + (tileWidth - shown.width) / 2, tile.y + (imageHeight - shown.height) / 2)
        }

        /// A side of `length` source pixels on the sheet; a reduction rounds up so that no
        /// thumbnail vanishes.
        static func displayed(_ length: Int, scale: Int, reduction: Int) -> Int {
            (length * scale + reduction - 1) / reduction
        }
    }
}
