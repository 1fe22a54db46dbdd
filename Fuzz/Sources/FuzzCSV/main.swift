// libFuzzer target: CSV splitting, then every field read back as text, as a number and by
// comparison, so that a field range pointing outside the file shows up as a trap or a
// sanitizer report. A `CSVError` is the expected answer to bad input.
import FileFormats
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let table: CSVTable
    do {
        table = try CSVTable.parse(bytes, file: "fuzz.csv")
    } catch {
        report(error.description)
        return 0
    }
    for row in 0..<table.rowCount {
        _ = table.line(ofRow: row)
        for column in table.header.indices {
            _ = table.string(row: row, column: column)
            _ = table.number(row: row, column: column)
            _ = table.withBytes(row: row, column: column) { $0.elementsEqual(table.header[column].utf8) }
        }
    }
    for name in table.header { precondition(table.column(name) != nil, "header '\(name)' has no column") }
    report("\(table.header.count) columns \(table.header), \(table.rowCount) rows")
    return 0
}
