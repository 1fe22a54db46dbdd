import Engine
import Glibc

/// The training split row after row: each row's numeric and category inputs, targets and masks
/// in one record of floats, so that gathering a shuffled batch reads one stretch of memory per
/// row. Kept tensor by tensor (as `EncodedSplit` holds them), a batch of 512 orders read 25
/// arrays at random rows, each read a cache and TLB miss: 0.7–0.9 ms a batch, a quarter of a
/// step. Image bytes stay in the split: an image is one long stretch already.
final class RowRecords {
    /// How one tensor's values of a row are kept in the record.
    enum Field {
        /// `count` floats as the tensor takes them.
        case floats(count: Int)
        /// A category's index, made a one-hot row of `size` when gathered.
        case category(size: Int)

        var stored: Int {
            switch self {
            case .floats(let count): count
            case .category: 1
            }
        }
    }

    /// Per tensor, in the order given: its place in the record and how it is kept.
    let fields: [(offset: Int, field: Field)]
    /// Floats per record.
    let width: Int
    let rows: Int
    let values: UnsafeMutablePointer<Float>

    /// Records of `columns` (per tensor, its values in the split, row by row) for `rows` rows.
    init(_ columns: [EncodedInput], rows: Int) {
        var fields: [(offset: Int, field: Field)] = [], width = 0
        for column in columns {
            let field: Field
            switch column {
            case .floats(_, let size), .bytes(_, let size): field = .floats(count: size)
            case .oneHot(_, let size): field = .category(size: size)
            }
            fields.append((width, field))
            width += field.stored
        }
        (self.fields, self.width, self.rows) = (fields, width, rows)
        values = Self.allocate(floats: max(rows * width, 1))
        // Every column of a block of rows before the next block: column by column over the
        // whole split, each pass fetched every record's cache lines again.
        for first in stride(from: 0, to: rows, by: 1024) {
            let block = first..<min(first + 1024, rows)
            for (column, (offset, field)) in zip(columns, fields) {
                let count = field.stored
                switch column {
                case .floats(let source, _):
                    source.withUnsafeBufferPointer { source in
                        for r in block { for i in 0..<count { values[r * width + offset + i] = source[r * count + i] } }
                    }
                case .bytes(let source, _):
                    source.withUnsafeBufferPointer { source in
                        for r in block {
                            for i in 0..<count { values[r * width + offset + i] = Float(source[r * count + i]) * (1 / 255) }
                        }
                    }
                case .oneHot(let ids, _):
                    ids.withUnsafeBufferPointer { ids in
                        for r in block { values[r * width + offset] = Float(ids[r]) }
                    }
                }
            }
        }
    }

    deinit { free(values) }

    /// Bytes of a huge page, to which the records are aligned.
    private static let hugePage = 2 << 20

    /// Memory for the records, in huge pages where the system gives them on request: a batch
    /// reads records at random rows, and with 4 KB pages each read missed the TLB too (the
    /// orders flow's 240,000 rows take 36 MB, several times what the TLB covers).
    private static func allocate(floats count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = (count * MemoryLayout<Float>.stride + hugePage - 1) / hugePage * hugePage
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, hugePage, bytes) == 0, let memory else { fatalError("out of memory for \(bytes) bytes") }
        _ = madvise(memory, bytes, MADV_HUGEPAGE)  // only advice: without it the pages are small
        return memory.bindMemory(to: Float.self, capacity: count)
    }

    /// Reads each record of `rows` once, all of them before any is used: the reads do not wait
    /// on one another, so the memory system fetches many records at once, where gathering
    /// field by field waits for each record in turn. Returns a sum only so that the reads are
    /// kept.
    func touch(_ rows: ArraySlice<Int>) -> Float {
        var sum: Float = 0
        for row in rows {
            let record = values + row * width
            for line in stride(from: 0, to: width, by: 16) { sum += record[line] }  // 16 floats: a cache line
            sum += record[width - 1]
        }
        return sum
    }

    /// Field `index` of `row`, as the tensor takes it, into `destination`.
    @inline(__always)
    func gather(field index: Int, row: Int, into destination: UnsafeMutablePointer<Float>) {
        let (offset, field) = fields[index]
        let source = values + row * width + offset
        switch field {
        case .floats(let count):
            for i in 0..<count { destination[i] = source[i] }
        case .category(let size):
            destination.update(repeating: 0, count: size)
            destination[Int(source[0])] = 1
        }
    }
}
