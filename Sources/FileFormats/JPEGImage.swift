import CJPEG
import Foundation

/// JPEG files read into flowtrain's 8-bit pixel buffer (`PNGImage`, height × width × channels)
/// and written from it, through libjpeg-turbo's TurboJPEG API (Debian's 2.1).
///
/// Reading takes baseline, extended and progressive JPEGs, gray or colour (YCbCr or RGB), and turns them upright as their Exif orientation says
/// (`ExifOrientation`). CMYK and YCCK JPEGs are refused with a hint to convert them: without
/// their ICC profile no conversion to RGB gives the colours the photographer saw.
///
/// libjpeg's warnings count as errors: a truncated file ("premature end of JPEG file") or one
/// with damaged entropy-coded data would otherwise decode with grey or smeared blocks and train
/// on them silently.
public enum JPEGImage {
    /// The JPEG at `path` as gray (1), RGB (3) or RGBA (4, alpha 255), upright.
    ///
    /// Conversions are libjpeg's: a colour JPEG read as gray is its luma (Y of YCbCr, BT.601
    /// weights on the encoded values, not PNG's linear-light luminance); a gray JPEG read as
    /// colour has R = G = B.
    public static func read(path: String, channels: Int) throws(Problem) -> PNGImage {
        try decode(contents(of: path), path: path, channels: channels)
    }

    /// The JPEG in `bytes` (the contents of `path`, which problems name) as `read` gives it.
    public static func decode(_ bytes: [UInt8], path: String, channels: Int) throws(Problem) -> PNGImage {
        guard let format = pixelFormat(channels: channels) else {
            throw PNGImage.fileProblem(path, "cannot be read as \(channels) channels; use 1 (gray), 3 (RGB) or 4 (RGBA)")
        }
        return try withDecompressor(path) { handle throws(Problem) in
            let header = try readHeader(bytes, handle, path: path)
            let width = header.width, height = header.height
            guard width * height <= PNGImage.maximumPixelCount else {
                throw PNGImage.fileProblem(path, "is \(width)×\(height) pixels, more than the \(PNGImage.maximumPixelCount) allowed")
            }
            var failure: String?
            // Uninitialised: libjpeg writes every sample when it succeeds, and nothing is kept when
            // it fails.
            let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
                let status = bytes.withUnsafeBufferPointer { jpeg in
                    tjDecompress2(handle, jpeg.baseAddress, UInt(jpeg.count), buffer.baseAddress, Int32(width), 0,
                                  Int32(height), format, decodingFlags)
                }
                failure = status == 0 ? nil : message(handle)
                count = status == 0 ? buffer.count : 0
            }
            if let failure {
                throw PNGImage.fileProblem(path, "is truncated or corrupt: \(failure)")
            }
            return header.orientation.applied(to: PNGImage(width: width, height: height, channels: channels, pixels: pixels))
        }
    }

    /// The upright size and the channels of the JPEG at `path` from its header, without decoding
    /// its pixels: 1 for gray, 3 for colour; a 90° Exif orientation swaps height and width.
    public static func shape(path: String) throws(Problem) -> (height: Int, width: Int, channels: Int) {
        let bytes = try contents(of: path)
        return try withDecompressor(path) { handle throws(Problem) in
            let header = try readHeader(bytes, handle, path: path)
            let swapped = header.orientation.swapsAxes
            return (swapped ? header.width : header.height, swapped ? header.height : header.width, header.channels)
        }
    }

    /// Writes `image` as a baseline JPEG of `quality` (1...100), colour without chroma
    /// subsampling (4:4:4: details of a pixel or two keep their colour), gray as one component,
    /// an alpha channel dropped; replaces any file at `path`. On failure no partial file is left
    /// behind.
    public static func write(_ image: PNGImage, path: String, quality: Int) throws(Problem) {
        precondition((1...100).contains(quality), "JPEG quality is 1 to 100, not \(quality)")
        guard let handle = tjInitCompress() else {
            throw PNGImage.fileProblem(path, "cannot be written: \(message(nil))")
        }
        defer { tjDestroy(handle) }
        // The initialiser guarantees 1, 3 or 4 channels.
        guard let format = pixelFormat(channels: image.channels) else {
            preconditionFailure("channels must be 1, 3 or 4, not \(image.channels)")
        }
        let subsampling = Int32(image.channels == 1 ? TJSAMP_GRAY.rawValue : TJSAMP_444.rawValue)
        var jpeg: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        defer { tjFree(jpeg) }
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), format, &jpeg, &size,
                        subsampling, Int32(quality), Int32(TJFLAG_ACCURATEDCT))
        }
        guard status == 0, let jpeg else {
            throw PNGImage.fileProblem(path, "cannot be written: \(message(handle))")
        }
        guard let file = fopen(path, "wb") else {
            throw PNGImage.fileProblem(path, "cannot be written: \(PNGImage.systemMessage(errno))")
        }
        let written = fwrite(jpeg, 1, Int(size), file) == Int(size)
        // Buffered data reaches the disk at fclose, so a full disk may only show here.
        let closed = fclose(file) == 0
        guard written, closed else {
            let reason = PNGImage.systemMessage(errno)
            remove(path)
            throw PNGImage.fileProblem(path, "cannot be written: \(reason)")
        }
    }

    /// What the header says: the stored size (before orientation), the channels of the colour
    /// space, and the Exif orientation.
    private struct Header {
        let width: Int
        let height: Int
        let channels: Int
        let orientation: ExifOrientation
    }

    /// Warnings stop decoding (see the type's comment); at most 500 progressive scans are read,
    /// so that a file of thousands of tiny scans cannot keep a worker busy for minutes.
    private static let decodingFlags = Int32(TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)

    /// Checks the signature, reads the frame header and the Exif orientation, and refuses CMYK.
    private static func readHeader(_ bytes: [UInt8], _ handle: tjhandle, path: String) throws(Problem) -> Header {
        let signature: [UInt8] = [0xFF, 0xD8, 0xFF]
        guard bytes.starts(with: signature) else {
            let message = bytes.isEmpty ? "is empty, not a JPEG file"
                : signature.starts(with: bytes) ? "is truncated: it ends inside the JPEG signature" : "is not a JPEG file"
            throw PNGImage.fileProblem(path, message)
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourSpace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer { jpeg in
            tjDecompressHeader3(handle, jpeg.baseAddress, UInt(jpeg.count), &width, &height, &subsampling, &colourSpace)
        }
        guard status == 0, width > 0, height > 0 else {
            throw PNGImage.fileProblem(path, "is truncated or corrupt: \(message(handle))")
        }
        let channels: Int
        switch UInt32(colourSpace) {
        case TJCS_GRAY.rawValue: channels = 1
        case TJCS_CMYK.rawValue, TJCS_YCCK.rawValue:
            var problem = PNGImage.fileProblem(path, "is a CMYK JPEG, which image inputs do not read")
            problem.hint = "convert it to RGB with its colour profile, e.g. `convert in.jpg -colorspace sRGB out.jpg`"
            throw problem
        default: channels = 3
        }
        return Header(width: Int(width), height: Int(height), channels: channels, orientation: ExifOrientation(jpeg: bytes))
    }

    /// Calls `body` with a fresh TurboJPEG decompressor (one per call: a handle is not shared
    /// between threads), destroyed afterwards.
    private static func withDecompressor<Result>(_ path: String, _ body: (tjhandle) throws(Problem) -> Result)
        throws(Problem) -> Result {
        guard let handle = tjInitDecompress() else {
            throw PNGImage.fileProblem(path, "cannot be read: \(message(nil))")
        }
        defer { tjDestroy(handle) }
        return try body(handle)
    }

    /// The whole file at `path`: a JPEG is decoded from memory.
    private static func contents(of path: String) throws(Problem) -> [UInt8] {
        if let problem = RegularFile.problem(at: path) {
            throw PNGImage.fileProblem(path, problem)
        }
        guard let file = fopen(path, "rb") else {
            throw PNGImage.fileProblem(path, "cannot be opened: \(PNGImage.systemMessage(errno))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[..<count]
            if count < chunk.count { break }
        }
        if ferror(file) != 0 {
            throw PNGImage.fileProblem(path, "cannot be read: \(PNGImage.systemMessage(errno))")
        }
        return bytes
    }

    /// TurboJPEG's pixel format for a channel count.
    private static func pixelFormat(channels: Int) -> Int32? {
        switch channels {
        case 1: Int32(TJPF_GRAY.rawValue)
        case 3: Int32(TJPF_RGB.rawValue)
        case 4: Int32(TJPF_RGBA.rawValue)
        default: nil
        }
    }

    /// TurboJPEG's text for the last error of `handle` (nil: of the last failed handle creation),
    /// with libjpeg's capital first letter lowered to continue a sentence ("Premature end…"
    /// becomes "premature end…"; "JPEG datastream…" stays).
    private static func message(_ handle: tjhandle?) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        let message = String(cString: text)
        let start = message.prefix(2)
        guard start.count == 2, start.first?.isUppercase == true, start.last?.isLowercase == true else { return message }
        return message.prefix(1).lowercased() + message.dropFirst()
    }
}
