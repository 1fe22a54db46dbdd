import CPNG
import Foundation

/// An 8-bit image held row-major as height × width × channels (HWC), read from and written to
/// PNG through libpng's simplified API.
///
/// The simplified API is used rather than `png_create_read_struct` and its transforms because
/// libpng's low-level API reports errors by `longjmp`, which unwinds through Swift frames
/// without running their cleanup; the simplified API catches that `longjmp` inside libpng and
/// returns a status with a message instead.
public struct PNGImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (gray), 3 (RGB) or 4 (RGBA, alpha not premultiplied).
    public let channels: Int
    /// `height × width × channels` samples, row-major, channels interleaved.
    public let pixels: [UInt8]

    /// Decoded images larger than this are refused before their buffer is allocated: a PNG
    /// header may claim up to a million by a million pixels in a file of a few bytes.
    public static let maximumPixelCount = 1 << 28

    /// An image from samples already laid out as `height × width × channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max),
                     "PNG sizes are 1 to 2^31 - 1 pixels, not \(width)×\(height)")
        precondition(Self.format(channels: channels) != nil, "channels must be 1, 3 or 4, not \(channels)")
        precondition(pixels.count == width * height * channels,
                     "\(width)×\(height)×\(channels) needs \(width * height * channels) samples, not \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Reads any PNG (every colour type and bit depth, palettes with or without transparency,
    /// interlaced or not) converted to 8-bit gray (1), RGB (3) or RGBA (4).
    ///
    /// Conversions are libpng's: 16-bit samples are scaled to 8 bits; gray is copied into R, G
    /// and B; colour becomes gray with the sRGB luminance weights applied in linear light; an
    /// alpha channel that the requested format lacks is removed by compositing onto black, so
    /// transparent pixels read as black rather than as whatever colour they happen to store.
    /// A 16-bit file without gAMA or sRGB chunk is taken to be sRGB-encoded like an 8-bit one
    /// (libpng would otherwise assume linear and brighten it when reducing to 8 bits).
    public static func read(path: String, channels: Int) throws(Problem) -> PNGImage {
        guard let format = format(channels: channels) else {
            throw Self.fileProblem(path, "cannot be read as \(channels) channels; use 1 (gray), 3 (RGB) or 4 (RGBA)")
        }
        return try beginReading(path) { (image: inout png_image, file: UnsafeMutablePointer<FILE>) throws(Problem) in
            // Only settable after begin_read, which initialises `flags`.
            image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
            image.format = format

            let width = Int(image.width), height = Int(image.height)
            guard width * height <= maximumPixelCount else {
                throw Self.fileProblem(path, "is \(width)×\(height) pixels, more than the \(maximumPixelCount) allowed")
            }
            // PNG_IMAGE_ROW_STRIDE and PNG_IMAGE_SIZE are function-like macros, which Swift does not
            // import. For the 8-bit, non-colour-mapped formats requested here they come to
            // channels × width samples per row and height × that bytes. The pixel limit above
            // keeps the stride within png_int_32.
            let rowStride = channels * width
            // Every row holds at least a filter byte and a bit per pixel, and deflate compresses at
            // most 1032:1: a header claiming more pixels than the file can hold is refused before a
            // buffer for them is made (a 100-byte file could otherwise cost a gigabyte per read).
            var status = stat()
            if fstat(fileno(file), &status) == 0, Int(status.st_size) < height * (1 + width / 8) / 1032 {
                throw Self.fileProblem(path, "is truncated or corrupt: its header claims "
                                            + "\(width)×\(height) pixels, more than its \(status.st_size) bytes can hold")
            }
            // Only used when an alpha channel is removed; for gray output libpng takes green.
            var black = png_color(red: 0, green: 0, blue: 0)
            var finished = false
            // Uninitialised: only the pages libpng writes are touched, and all of them are written
            // when the read succeeds.
            let pixels = [UInt8](unsafeUninitializedCapacity: height * rowStride) { buffer, count in
                finished = png_image_finish_read(&image, &black, buffer.baseAddress, Int32(rowStride), nil) != 0
                count = finished ? buffer.count : 0
            }
            guard finished else {
                throw Self.fileProblem(path, "is truncated or corrupt: \(libpngMessage(image))")
            }
            return PNGImage(width: width, height: height, channels: channels, pixels: pixels)
        }
    }

    /// Opens `path`, checks it is a PNG and reads its header, then calls `body` with libpng's
    /// state and the file; frees both afterwards, also when `body` throws.
    private static func beginReading<Result>(
        _ path: String, _ body: (inout png_image, UnsafeMutablePointer<FILE>) throws(Problem) -> Result
    ) throws(Problem) -> Result {
        if let problem = RegularFile.problem(at: path) {
            throw Self.fileProblem(path, problem)
        }
        guard let file = fopen(path, "rb") else {
            throw Self.fileProblem(path, "cannot be opened: \(systemMessage(errno))")
        }
        defer { fclose(file) }
        try checkSignature(file, path: path)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        // Frees libpng's state when `body` throws; after finish_read it does nothing.
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_stdio(&image, file) != 0 else {
            throw Self.fileProblem(path, "is truncated or corrupt: \(libpngMessage(image))")
        }
        return try body(&image, file)
    }

    /// The size and channels of the PNG at `path`, from its header alone: 1 (gray), 3 (RGB)
    /// or 4 (RGBA; gray with alpha counts as RGBA), as `read` would give them unconverted.
    public static func shape(path: String) throws(Problem) -> (height: Int, width: Int, channels: Int) {
        try beginReading(path) { (image: inout png_image, _: UnsafeMutablePointer<FILE>) throws(Problem) in
            let alpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0, colour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
            return (Int(image.height), Int(image.width), alpha ? 4 : colour ? 3 : 1)
        }
    }

    /// Writes an 8-bit gray, RGB or RGBA PNG, replacing any file at `path`. On failure no
    /// partial file is left behind.
    public func write(path: String) throws(Problem) {
        // The initialiser guarantees the channel count, so this is never nil.
        guard let format = Self.format(channels: channels) else {
            preconditionFailure("channels must be 1, 3 or 4, not \(channels)")
        }
        guard let file = fopen(path, "wb") else {
            throw Self.fileProblem(path, "cannot be written: \(Self.systemMessage(errno))")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = format
        // Row stride 0: libpng computes channels × width itself.
        let written = png_image_write_to_stdio(&image, file, 0, pixels, 0, nil) != 0
        let failure = written ? nil : Self.libpngMessage(image)
        png_image_free(&image)
        // Buffered data reaches the disk at fclose, so a full disk may only show here.
        let closed = fclose(file) == 0
        let closeMessage = closed ? nil : Self.systemMessage(errno)
        guard written, closed else {
            remove(path)
            throw Self.fileProblem(path, "cannot be written: \(failure ?? closeMessage ?? "unknown error")")
        }
    }

    /// The image bilinearly resampled to `width × height`.
    ///
    /// Pixel centres are aligned, as in OpenCV's `INTER_LINEAR` and PyTorch's
    /// `align_corners=false`: output pixel `i` samples the source at `(i + 0.5) × scale - 0.5`,
    /// clamped to the edge pixels. Results are rounded to the nearest integer, halves away
    /// from zero. There is no anti-aliasing, so large reductions skip source pixels.
    public func resized(width newWidth: Int, height newHeight: Int) -> PNGImage {
        precondition(newWidth > 0 && newHeight > 0, "cannot resize to \(newWidth)×\(newHeight)")
        let columns = Self.samplePositions(count: newWidth, source: width)
        let rows = Self.samplePositions(count: newHeight, source: height)
        var resized = [UInt8](repeating: 0, count: newHeight * newWidth * channels)
        for y in 0..<newHeight {
            let row = rows[y]
            let upper = row.lower * width, lower = row.upper * width
            for x in 0..<newWidth {
                let column = columns[x]
                let topLeft = (upper + column.lower) * channels, topRight = (upper + column.upper) * channels
                let bottomLeft = (lower + column.lower) * channels, bottomRight = (lower + column.upper) * channels
                let output = (y * newWidth + x) * channels
                for c in 0..<channels {
                    let top = Self.mix(pixels[topLeft + c], pixels[topRight + c], column.weight)
                    let bottom = Self.mix(pixels[bottomLeft + c], pixels[bottomRight + c], column.weight)
                    // A convex combination of samples in 0...255 rounds back into 0...255.
                    resized[output + c] = UInt8((top + (bottom - top) * row.weight).rounded())
                }
            }
        }
        return PNGImage(width: newWidth, height: newHeight, channels: channels, pixels: resized)
    }

    /// Where output index `i` samples a source axis of `source` pixels: the two neighbouring
    /// source indices and the weight of the second.
    private static func samplePositions(count: Int, source: Int) -> [(lower: Int, upper: Int, weight: Double)] {
        let scale = Double(source) / Double(count)
        return (0..<count).map { i in
            let position = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(source - 1))
            let lower = Int(position)
            return (lower, min(lower + 1, source - 1), position - Double(lower))
        }
    }

    private static func mix(_ a: UInt8, _ b: UInt8, _ weight: Double) -> Double {
        Double(a) + (Double(b) - Double(a)) * weight
    }

    /// The simplified API's 8-bit format for a channel count. PNG_FORMAT_RGBA is written
    /// out because Swift does not import macros built from other macros with `|`.
    private static func format(channels: Int) -> UInt32? {
        switch channels {
        case 1: UInt32(PNG_FORMAT_GRAY)
        case 3: PNG_FORMAT_RGB
        case 4: PNG_FORMAT_RGB | PNG_FORMAT_FLAG_ALPHA
        default: nil
        }
    }

    /// Tells "not a PNG" from a damaged PNG by the 8-byte signature, so that each gets a message
    /// of its own rather than libpng's; leaves `file` at its start.
    private static func checkSignature(_ file: UnsafeMutablePointer<FILE>, path: String) throws(Problem) {
        var signature = [UInt8](repeating: 0, count: 8)
        let count = fread(&signature, 1, signature.count, file)
        if ferror(file) != 0 {
            throw Self.fileProblem(path, "cannot be read: \(systemMessage(errno))")
        }
        if count < signature.count, count > 0, png_sig_cmp(signature, 0, count) == 0 {
            throw Self.fileProblem(path, "is truncated: it ends inside the PNG signature")
        }
        guard count == signature.count, png_sig_cmp(signature, 0, count) == 0 else {
            throw Self.fileProblem(path, count == 0 ? "is empty, not a PNG file" : "is not a PNG file")
        }
        rewind(file)
    }

    /// A problem with the file at `path`; `message` completes a sentence whose subject is the
    /// file, e.g. "is not a PNG file". The JPEG reader words its problems the same way.
    static func fileProblem(_ path: String, _ message: String) -> Problem {
        Problem(file: path, message: "the file " + message)
    }

    /// libpng's error text, which it keeps NUL-terminated in a fixed 64-byte field; read no
    /// further than the field even so.
    private static func libpngMessage(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func systemMessage(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
