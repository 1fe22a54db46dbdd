/// The cells that mean "no label here" (`data.missing`, docs/flow-format.md), matched as bytes.
struct MissingLabelMarkers: Sendable {
    /// Every marker's bytes one after the other, and where each ends.
    private let storage: [UInt8]
    private let ends: [Int]

    init(_ markers: [String]) {
        storage = markers.flatMap { Array($0.utf8) }
        var end = 0
        ends = markers.map { end += $0.utf8.count; return end }
    }

    @inline(__always)
    func matches(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        storage.withUnsafeBufferPointer { storage in
            var start = 0
            for end in ends {
                if end - start == field.count, (0..<field.count).allSatisfy({ storage[start + $0] == field[$0] }) { return true }
                start = end
            }
            return false
        }
    }
}
