import FileFormats
import Testing
@testable import Training

struct FieldValueIndexTests {
    /// Thousands of values survive the table's growth, keep their first numbers, and are told
    /// apart from near misses (prefixes, the empty value).
    @Test func numbersValuesInFirstSeenOrder() {
        var index = FieldValueIndex()
        let values = ["", "a"] + (0..<5000).map { "value \($0)" }
        for value in values + values.reversed() {
            let id = Array(value.utf8).withUnsafeBufferPointer { index.insert($0) }
            #expect(id == values.firstIndex(of: value)!)
        }
        #expect(index.count == values.count)
        #expect(index.string(4) == "value 2")
        for missing in ["value", "value 50000", "b", " "] {
            #expect(Array(missing.utf8).withUnsafeBufferPointer { index.find($0) } == nil)
        }
    }

    /// A lookup by bytes falls back to String equality, which equates an é written as one code
    /// point with e and a combining accent.
    @Test func lookupFallsBackToStringEquality() throws {
        var lookup = ValueLookup(["<unknown>", "caf\u{E9}", "tea"])
        let table = try CSVTable.parse(Array("drink\ntea\ncafe\u{301}\nwater\n".utf8), file: "t.csv")
        #expect((0..<3).map { row in table.withBytes(row: row, column: 0) { lookup.match($0) } } == [.at(2), .at(1), .absent])
    }

    /// Bytes that are not UTF-8 are never equal to a value that holds U+FFFD, which is what they
    /// would decode to.
    @Test func lookupTellsBytesThatAreNotUTF8Apart() throws {
        var lookup = ValueLookup(["caf\u{FFFD}", "caf\u{E9}"])
        let table = try CSVTable.parse([UInt8]("drink\ncaf".utf8) + [0xE9] + [UInt8]("\ncaf\u{E9}\n".utf8), file: "t.csv")
        #expect((0..<2).map { row in table.withBytes(row: row, column: 0) { lookup.match($0) } } == [.notUTF8("'caf\\xE9' is not UTF-8 text; save the file as UTF-8"), .at(1)])
    }
}
