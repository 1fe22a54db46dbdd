/// How a JPEG's pixels are turned to stand upright, from the orientation tag (0x0112) of its
/// Exif metadata (the APP1 segment starting `Exif\0\0`): TIFF's numbers 1 to 8, for the
/// rotations by 0°, 90°, 180° and 270° with and without a mirror image.
///
/// Metadata does not decide whether an image is readable: a file without Exif, with a damaged
/// Exif segment, or with an orientation outside 1...8 reads as stored (orientation 1), as
/// browsers show it.
struct ExifOrientation: Equatable {
    /// 1 upright, 2 mirrored left to right, 3 rotated 180°, 4 mirrored top to bottom,
    /// 5 transposed, 6 to be rotated 90° clockwise, 7 transversed, 8 to be rotated 90°
    /// counter-clockwise.
    let value: Int

    /// The orientation the first Exif segment before the image data gives, else 1.
    init(jpeg bytes: [UInt8]) {
        value = Self.find(in: bytes) ?? 1
    }

    /// Orientations 5 to 8 turn the image by 90°: its height becomes its width.
    var swapsAxes: Bool { value >= 5 }

    /// `image` (as stored in the file) turned upright.
    func applied(to image: PNGImage) -> PNGImage {
        guard value != 1 else { return image }
        let width = image.width, height = image.height, channels = image.channels
        let (uprightWidth, uprightHeight) = swapsAxes ? (height, width) : (width, height)
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { stored in
            pixels.withUnsafeMutableBufferPointer { upright in
                for y in 0..<uprightHeight {
                    for x in 0..<uprightWidth {
                        let (storedX, storedY) = storedPosition(x: x, y: y, width: width, height: height)
                        let from = (storedY * width + storedX) * channels, to = (y * uprightWidth + x) * channels
                        for c in 0..<channels { upright[to + c] = stored[from + c] }
                    }
                }
            }
        }
        return PNGImage(width: uprightWidth, height: uprightHeight, channels: channels, pixels: pixels)
    }

    /// Where the upright pixel (x, y) is stored in a `width × height` image.
    private func storedPosition(x: Int, y: Int, width: Int, height: Int) -> (Int, Int) {
        switch value {
        case 2: (width - 1 - x, y)
        case 3: (width - 1 - x, height - 1 - y)
        case 4: (x, height - 1 - y)
        case 5: (y, x)
        case 6: (y, height - 1 - x)
        case 7: (width - 1 - y, height - 1 - x)
        case 8: (width - 1 - y, x)
        default: (x, y)
        }
    }

    /// The orientation in the first Exif APP1 segment that has one, walking the segments from
    /// the start of image to the first scan; nil when there is none or the segments are damaged
    /// (the decoder then says what is wrong with them).
    private static func find(in bytes: [UInt8]) -> Int? {
        var offset = 2
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return nil }
            let marker = bytes[offset + 1]
            switch marker {
            case 0xFF: offset += 1  // a fill byte before a marker
            case 0x01, 0xD0...0xD8: offset += 2  // markers without a length
            case 0xD9, 0xDA: return nil  // end of image, start of scan: metadata comes before
            default:
                let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                guard length >= 2, offset + 2 + length <= bytes.count else { return nil }
                if marker == 0xE1, let value = orientation(exif: bytes[(offset + 4)..<(offset + 2 + length)]) {
                    return value
                }
                offset += 2 + length
            }
        }
        return nil
    }

    /// The orientation tag of IFD0 in an APP1 segment's payload, when it is Exif and has a valid
    /// one (type SHORT, 1...8).
    private static func orientation(exif payload: ArraySlice<UInt8>) -> Int? {
        guard payload.starts(with: Array("Exif".utf8) + [0, 0]) else { return nil }
        let tiff = Array(payload.dropFirst(6))
        let littleEndian: Bool
        switch (tiff.first, tiff.dropFirst().first) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func uint16(at offset: Int) -> Int? {
            guard offset + 2 <= tiff.count else { return nil }
            let (first, second) = (Int(tiff[offset]), Int(tiff[offset + 1]))
            return littleEndian ? first | second << 8 : first << 8 | second
        }
        func uint32(at offset: Int) -> Int? {
            guard let first = uint16(at: offset), let second = uint16(at: offset + 2) else { return nil }
            return littleEndian ? first | second << 16 : first << 16 | second
        }
        guard uint16(at: 2) == 42, let directory = uint32(at: 4), let count = uint16(at: directory) else { return nil }
        for entry in 0..<count {
            let offset = directory + 2 + 12 * entry
            guard let tag = uint16(at: offset) else { return nil }
            guard tag == 0x0112 else { continue }
            guard uint16(at: offset + 2) == 3, let value = uint16(at: offset + 8), (1...8).contains(value) else { return nil }
            return value
        }
        return nil
    }
}
