/// PNG files written byte by byte, so that every colour type and bit depth has a fixture
/// without a second encoder or binary files in the repository: a zlib stream holding one
/// stored (uncompressed) deflate block needs no compression.
public enum HandMadePNG {
    public static let gray: UInt8 = 0, rgb: UInt8 = 2, palette: UInt8 = 3, grayAlpha: UInt8 = 4, rgba: UInt8 = 6

    /// A PNG of `rows`, each a list of samples (channels interleaved, palette indices for a
    /// palette image) packed at `bitDepth`.
    public static func file(width: Int, bitDepth: UInt8, colorType: UInt8, rows: [[Int]],
                     palette: [UInt8]? = nil, transparency: [UInt8]? = nil) -> [UInt8] {
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(rows.count))
        header += [bitDepth, colorType, 0, 0, 0]  // deflate, adaptive filtering, not interlaced
        var raw: [UInt8] = []
        for row in rows {
            raw.append(0)  // filter type None
            raw += packed(row, bitDepth: Int(bitDepth))
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", header)
        if let palette { png += chunk("PLTE", palette) }
        if let transparency { png += chunk("tRNS", transparency) }
        png += chunk("IDAT", storedZlib(raw))
        png += chunk("IEND", [])
        return png
    }

    /// Samples below 8 bits fill each byte from its high bit; 16-bit samples are big-endian.
    static func packed(_ samples: [Int], bitDepth: Int) -> [UInt8] {
        switch bitDepth {
        case 16: return samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case 8: return samples.map { UInt8($0) }
        default:
            let perByte = 8 / bitDepth
            return stride(from: 0, to: samples.count, by: perByte).map { start in
                var byte = 0
                for (i, sample) in samples[start..<min(start + perByte, samples.count)].enumerated() {
                    byte |= sample << (8 - bitDepth * (i + 1))
                }
                return UInt8(byte)
            }
        }
    }

    /// A chunk: its data length, type and data, then the CRC-32 of type and data.
    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }

    /// RFC 1950 header (deflate, 32K window, no dictionary), one final stored block
    /// (RFC 1951 §3.2.4: length, its complement, the bytes), then the Adler-32 of the data.
    static func storedZlib(_ data: [UInt8]) -> [UInt8] {
        let length = UInt16(data.count)
        return [0x78, 0x01, 0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            + data + bigEndian(adler32(data))
    }

    /// CRC-32 as PNG and zlib define it: reflected polynomial 0xEDB88320, inverted in and out.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    public static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
