import FileFormats
import Foundation

/// Distinct field values, as bytes, numbered in the order they were first inserted and found
/// again by hash: how a large file's categories and class names are counted and looked up
/// without making a String per cell.
struct FieldValueIndex {
    /// Every value's bytes, one after the other; value `i` is `storage[offsets[i]..<offsets[i + 1]]`.
    private var storage: [UInt8] = []
    private var offsets: [Int] = [0]
    /// Open addressing, linear probing: a value's number, or -1 for an empty slot.
    private var slots: [Int32]
    private var hashes: [UInt64] = []

    /// The number of distinct values.
    var count: Int { offsets.count - 1 }

    init() { slots = [Int32](repeating: -1, count: 64) }

    /// The index of `values`, numbered in order (a later duplicate keeps the first number).
    init(_ values: [String]) {
        self.init()
        for value in values { Array(value.utf8).withUnsafeBufferPointer { _ = insert($0) } }
    }

    /// The value's number, inserting it when it is new.
    @inline(__always)
    mutating func insert(_ value: UnsafeBufferPointer<UInt8>) -> Int {
        let hash = Self.hash(value)
        var slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while true {
            let id = Int(slots[slot])
            if id < 0 { break }
            if hashes[id] == hash, equals(id, value) { return id }
            slot = (slot + 1) & (slots.count - 1)
        }
        let id = count
        storage.append(contentsOf: value)
        offsets.append(storage.count)
        hashes.append(hash)
        slots[slot] = Int32(id)
        if 2 * count > slots.count { grow() }
        return id
    }

    /// The value's number, or nil when it was never inserted.
    @inline(__always)
    func find(_ value: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(value)
        var slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while true {
            let id = Int(slots[slot])
            if id < 0 { return nil }
            if hashes[id] == hash, equals(id, value) { return id }
            slot = (slot + 1) & (slots.count - 1)
        }
    }

    /// Value `id` decoded as UTF-8.
    func string(_ id: Int) -> String {
        storage.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]]), as: UTF8.self) }
    }

    private func equals(_ id: Int, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = offsets[id]
        guard offsets[id + 1] - start == value.count else { return false }
        // Values are short (categories, class names): a loop beats a call to memcmp.
        return storage.withUnsafeBufferPointer { stored in
            for i in 0..<value.count where stored[start + i] != value[i] { return false }
            return true
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: 2 * slots.count)
        for id in 0..<count {
            var slot = Int(truncatingIfNeeded: hashes[id]) & (slots.count - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(id)
        }
    }

    /// FNV-1a, then a final mix so that the low bits the table uses depend on every byte.
    @inline(__always)
    private static func hash(_ value: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        return h ^ (h >> 33)
    }
}

/// Finds a field among known values (a vocabulary, a task's classes) and gives its position:
/// by its bytes, and when they match none, by String equality, which also equates canonically
/// equal spellings of the same text. Each value that is not found by its bytes is looked up as a
/// String once, however many cells hold it; bytes that are not UTF-8 are told apart then, as
/// they would decode to U+FFFD and equal other such values.
struct ValueLookup {
    /// What a field is among the known values.
    enum Match: Equatable {
        case at(Int)
        case absent
        /// Bytes that are not UTF-8, and why (`UTF8Field.problem`).
        case notUTF8(String)
    }

    private let index: FieldValueIndex
    private let byName: [String: Int]
    private var misses = FieldValueIndex()
    private var missMatches: [Match] = []

    init(_ values: [String]) {
        index = FieldValueIndex(values)
        byName = Dictionary(values.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    mutating func match(_ bytes: UnsafeBufferPointer<UInt8>) -> Match {
        // The known values are Strings, so bytes equal to one are UTF-8.
        if let found = index.find(bytes) { return .at(found) }
        let miss = misses.insert(bytes)
        if miss == missMatches.count {
            missMatches.append(UTF8Field.problem(bytes).map { .notUTF8($0) }
                               ?? byName[String(decoding: bytes, as: UTF8.self)].map { .at($0) } ?? .absent)
        }
        return missMatches[miss]
    }
}
