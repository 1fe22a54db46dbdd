import FlowSpec

/// One split of the data, encoded for the model: every input's values and every task's
/// targets and masks, row-major, ready to be copied batch by batch into a plan's tensors.
public struct EncodedSplit: Sendable {
    public let name: String
    public let rows: Int
    /// The CSV file the rows come from, and each row's 0-based data row in it (what
    /// `predictions.csv` calls `row`, so outputs join back to the data).
    public let file: String
    public let sourceRows: [Int]
    /// Per input name: its values, `sampleSize` per row; images stay bytes until batching.
    public var inputs: [String: EncodedInput]
    /// Per task, in the flow's evaluation order: targets and mask, as the task's loss reads them.
    public var targets: [[Float]]
    public var masks: [[Float]]
    /// Per task: whether the task counts on each row (label present, precondition true).
    public var counts: [[Bool]]
    /// Per task: whether its label is present on each row.
    public var present: [[Bool]]
    /// When several processes each hold a part of the split (`mpirun`): this one's. Nil: the
    /// whole split is here.
    public var part: SplitPart? = nil

    /// Rows of the whole split, over every process.
    public var totalRows: Int { part?.total ?? rows }
    /// The index in the whole split of this process's first row.
    public var firstRow: Int { part?.first ?? 0 }
}

/// Where one process's rows of a split are in the whole: rows `first..<(first + rows)` of `total`.
public struct SplitPart: Sendable, Equatable {
    public let first: Int
    public let total: Int
}

/// An input's values for every row of a split.
public enum EncodedInput: Sendable {
    case floats([Float], sampleSize: Int)
    /// 8-bit pixels, scaled to [0, 1] when a batch is filled.
    case bytes([UInt8], sampleSize: Int)
    /// A category's index per row, made a one-hot row of `sampleSize` when a batch is filled
    /// (kept as indices: a wide vocabulary would otherwise take `sampleSize` floats a row).
    case oneHot([Int32], sampleSize: Int)

    public var sampleSize: Int {
        switch self {
        case .floats(_, let size), .bytes(_, let size), .oneHot(_, let size): size
        }
    }
}
