/// Exchanges built on the collective operations, for what processes that each read a part of
/// the data must learn from one another: each one's count, each one's values, and sums taken
/// in rank order as one process would take them over the whole data.
extension ProcessGroup {
    /// Every process's `value`, by rank.
    public func allgather(_ value: Int) -> [Int] {
        var values = [Int](repeating: 0, count: size)
        values[rank] = value
        allreduceSum(&values)
        return values
    }

    /// Every process's `values` (each may have its own length), by rank.
    public func allgatherByRank<Element: BitwiseCopyable>(_ values: [Element]) -> [[Element]] {
        let bytes = values.withUnsafeBytes { Array($0) }
        return allgather(bytes: bytes).map { bytes in
            let count = bytes.count / MemoryLayout<Element>.stride
            return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                bytes.withUnsafeBytes { source in
                    if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
                }
                initialized = count
            }
        }
    }

    /// Runs `body` on each process in turn, in rank order, each continuing from the `state`
    /// the one before left: a running sum continued over each process's part of the data adds
    /// the same numbers in the same order as one process over the whole, so it ends with the
    /// same bits (a sum of the parts' sums would not). Every process ends with the last one's
    /// state. `state` has the same length on every process.
    public func inRankOrder(_ state: inout [Double], _ body: (inout [Double]) -> Void) {
        for turn in 0..<size {
            if turn == rank { body(&state) }
            broadcast(&state, from: turn)
        }
    }
}
