/// CSV files are read as UTF-8. A byte sequence that is not UTF-8 (a file saved as Latin-1)
/// would decode to U+FFFD, so `caf\xE9` and `caf\xE8` would become one category or class:
/// wherever a field is read as text, such bytes are an error instead.
public enum UTF8Field {
    /// Why `bytes` are not UTF-8 text, showing them with each invalid byte as `\xHH`; nil when
    /// they are UTF-8.
    public static func problem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard !bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var shown = "", offset = 0, isValid = true
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                shown.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                offset += encoded.count
            case .error(let length):
                isValid = false
                for byte in bytes[offset..<(offset + length)] {
                    shown += "\\x" + String(byte, radix: 16, uppercase: true)
                }
                offset += length
            case .emptyInput:
                return isValid ? nil : "'\(shown)' is not UTF-8 text; save the file as UTF-8"
            }
        }
    }
}
