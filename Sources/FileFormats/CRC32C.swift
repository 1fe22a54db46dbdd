/// CRC-32C (Castagnoli), the checksum TFRecord files carry around each record's length and data
/// (and that a checkpoint keeps of the logs it continues).
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF: the CRC of the ASCII
/// bytes "123456789" is 0xE3069283.
public enum CRC32C {
    /// The CRC of each byte value, computed bit by bit once on first use so that `checksum` does
    /// one table look-up per byte.
    @usableFromInline static let table: [UInt32] = (0..<256).map { (byte: UInt32) in
        var crc = byte
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// The CRC-32C of `bytes`; with `previous`, of the bytes whose CRC it is followed by
    /// `bytes`, so that a growing text is checksummed a piece at a time.
    @inlinable
    public static func checksum(_ bytes: some Sequence<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        var crc: UInt32 = ~previous
        for byte in bytes {
            crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
        }
        return ~crc
    }

    /// TFRecord's masked form of a CRC: rotated right by 15 bits plus a constant. TensorFlow
    /// masks because a CRC computed over data that itself contains CRCs is weak.
    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The masked CRC-32C of `bytes`, as stored in a TFRecord.
    static func maskedChecksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        masked(checksum(bytes))
    }
}
