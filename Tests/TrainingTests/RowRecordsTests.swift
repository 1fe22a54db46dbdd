import Testing
@testable import Training

/// The training split kept row by row gathers what the split kept tensor by tensor gathers.
struct RowRecordsTests {
    @Test func aShuffledBatchFromTheRecordsEqualsOneFromTheSplit() {
        let rows = 5
        let columns: [EncodedInput] = [
            .floats((0..<(rows * 3)).map { Float($0) * 0.5 - 2 }, sampleSize: 3),
            .oneHot([2, 0, 3, 1, 3], sampleSize: 4),
            .bytes((0..<(rows * 2)).map { UInt8($0 * 25) }, sampleSize: 2),
            .floats([1, 0, 1, 1, 0], sampleSize: 1),
        ]
        let records = RowRecords(columns, rows: rows)
        #expect(records.width == 3 + 1 + 2 + 1)
        let batch = [3, 0, 4, 0][...]
        for (index, column) in columns.enumerated() {
            let size = column.sampleSize
            var expected = [Float](repeating: -9, count: batch.count * size)
            var gathered = expected
            expected.withUnsafeMutableBufferPointer { Batcher.gather(column, rows: batch, size: size, into: $0.baseAddress!) }
            gathered.withUnsafeMutableBufferPointer { out in
                for (b, row) in batch.enumerated() { records.gather(field: index, row: row, into: out.baseAddress! + b * size) }
            }
            #expect(gathered == expected, "column \(index)")
        }
    }
}
