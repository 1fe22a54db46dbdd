import Engine

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
        values = .allocate(capacity: max(rows * width, 1))
        for (column, (offset, field)) in zip(columns, fields) {
            let count = field.stored
            switch column {
            case .floats(let source, _):
                source.withUnsafeBufferPointer { source in
                    for r in 0..<rows { for i in 0..<count { values[r * width + offset + i] = source[r * count + i] } }
                }
            case .bytes(let source, _):
                source.withUnsafeBufferPointer { source in
                    for r in 0..<rows { for i in 0..<count { values[r * width + offset + i] = Float(source[r * count + i]) * (1 / 255) } }
                }
            case .oneHot(let ids, _):
                for r in 0..<rows { values[r * width + offset] = Float(ids[r]) }
            }
        }
    }

    deinit { values.deallocate() }

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
