import Engine
import Testing
@testable import Training

/// `sampling: stratified`: each epoch a permutation of the split whose every full batch takes
/// one row from each of `batch_size` equal stretches, in stretch order.
struct StratifiedOrderTests {
    @Test(arguments: [(157, 16), (10, 3), (5, 8), (16, 16), (1, 4)])
    func everyFullBatchTakesARowFromEachStretch(rows: Int, size: Int) {
        var random = Random(seed: 11)
        let order = EpochOrder.stratified(rows: rows, size: size, random: &random)
        #expect(order.sorted() == Array(0..<rows))
        let width = min(size, rows)
        for b in 0..<(rows / width) {
            for s in 0..<width {
                let row = order[b * width + s]
                #expect((s * rows / width)..<((s + 1) * rows / width) ~= row, "batch \(b), stretch \(s): row \(row)")
            }
        }
    }

    /// Within its stretch, a row's batch is drawn: the order is not the file's.
    @Test func theRowsOfAStretchComeInARandomOrder() {
        var first = Random(seed: 1), second = Random(seed: 2)
        let a = EpochOrder.stratified(rows: 1000, size: 10, random: &first)
        let b = EpochOrder.stratified(rows: 1000, size: 10, random: &second)
        #expect(a != b)
        // Stretch 0's rows in batch order: a permutation of 0..<100 far from sorted.
        let stretch = stride(from: 0, to: 1000, by: 10).map { a[$0] }
        #expect(stretch.sorted() == Array(0..<100))
        #expect(zip(stretch, stretch.dropFirst()).filter { $0 < $1 }.count < 70)
    }
}
