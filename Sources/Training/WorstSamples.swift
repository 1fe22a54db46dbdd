import Engine
import FileFormats
import Foundation
import ProcessGroups

/// Each training row's own loss per task over one epoch: the loss of the last step that trained
/// the row (balanced sampling may draw a row twice), NaN for a row not trained yet this epoch
/// or whose mask keeps nothing of the task. A rows × tasks block and a batch of scratch,
/// allocated once, so recording a step allocates nothing.
///
/// Processes that train parts of the batches each record their own rows, in a block over the
/// whole split (its rows numbered as one process numbers them, whichever process holds them);
/// `combine` makes the block every process's, each row's losses those of the step that recorded
/// it last, as one process that trained every part would hold them.
public final class SampleLosses {
    public let rows: Int
    public let tasks: Int
    private let losses: UnsafeMutablePointer<Float>
    /// Per row: the stamp of the step that last recorded it, −1 while none has this epoch; a
    /// restored row is stamped 0, before any step that follows.
    private let stamps: UnsafeMutablePointer<Int>
    private let maxBatch: Int
    /// One batch of per-sample losses, task after task, as the loss ops hand them over.
    private let batch: UnsafeMutablePointer<Float>

    public init(rows: Int, tasks: Int, maxBatch: Int) {
        (self.rows, self.tasks, self.maxBatch) = (rows, tasks, maxBatch)
        losses = .allocate(capacity: max(rows * tasks, 1))
        losses.initialize(repeating: .nan, count: max(rows * tasks, 1))
        stamps = .allocate(capacity: max(rows, 1))
        stamps.initialize(repeating: -1, count: max(rows, 1))
        batch = .allocate(capacity: max(tasks * maxBatch, 1))
        batch.initialize(repeating: 0, count: max(tasks * maxBatch, 1))
    }

    deinit {
        losses.deallocate()
        stamps.deallocate()
        batch.deallocate()
    }

    /// Forgets every loss: a new epoch starts.
    public func reset() {
        losses.update(repeating: .nan, count: rows * tasks)
        stamps.update(repeating: -1, count: rows)
    }

    /// The per-sample losses of the model's last forward pass, for the training rows it ran on:
    /// `batchRows` of a process's part of the split, whose first row is `firstRow` of the whole
    /// (0 alone). `stamp` orders the steps for `combine` (later steps larger, all above 0).
    public func record(_ model: CompiledModel, rows batchRows: ArraySlice<Int>, firstRow: Int = 0, stamp: Int = 1) {
        for (t, task) in model.tasks.enumerated() { task.loss.sampleLosses(batch: batchRows.count, into: batch + t * maxBatch) }
        // Row by row: a shuffled row's losses share a cache line, fetched once.
        for (b, local) in batchRows.enumerated() {
            let row = firstRow + local
            for t in 0..<tasks { losses[row * tasks + t] = batch[t * maxBatch + b] }
            stamps[row] = stamp
        }
    }

    /// Every process's losses in every process's block: per row, those of the process whose
    /// stamp is the largest (the others add 0), NaN where no process recorded the row. Two
    /// collective calls over the block; nothing to do alone.
    public func combine(across processes: any ProcessGroup) {
        guard processes.size > 1 else { return }
        let mine = Array(UnsafeBufferPointer(start: stamps, count: rows))
        processes.allreduceMax(stamps, count: rows)
        for row in 0..<rows where mine[row] != stamps[row] { (losses + row * tasks).update(repeating: 0, count: tasks) }
        processes.allreduceSum(losses, count: rows * tasks)
    }

    public func loss(row: Int, task: Int) -> Float { losses[row * tasks + task] }

    /// Every loss, row by row: what a checkpoint within an epoch keeps.
    public var values: [Float] { Array(UnsafeBufferPointer(start: losses, count: rows * tasks)) }

    /// Puts back what `values` gave; false (and nothing changed) when the count differs.
    public func restore(_ values: [Float]) -> Bool {
        guard values.count == rows * tasks else { return false }
        losses.update(from: values, count: values.count)
        stamps.update(repeating: 0, count: rows)
        return true
    }
}

/// The hardest training samples of each task, epoch by epoch: `worst_samples.csv`.
///
/// Each epoch, per task, the `count` rows with the highest loss are ranked 1…count. A row once
/// ranked stays *tracked*: every later epoch lists its loss too, with an empty rank while it is
/// outside the worst, so a sample that stays hard (or is mislabelled) shows as a line across
/// the epochs. `row` is the 0-based data row in the training file, as `predictions.csv` has it.
public struct WorstSamplesLog {
    public static let fileName = "worst_samples.csv"
    public static let header = ["epoch", "task_path", "rank", "row", "loss"]
    public let count: Int
    /// The training split's rows in the data file.
    let sourceRows: [Int]
    let taskPaths: [String]
    public private(set) var csv = CSVWriter(header: WorstSamplesLog.header)
    /// Per task: the training rows ever ranked, in the order they first were.
    private var tracked: [[Int]]
    private var trackedSets: [Set<Int>]

    public init(count: Int, taskPaths: [String], sourceRows: [Int]) {
        (self.count, self.taskPaths, self.sourceRows) = (count, taskPaths, sourceRows)
        tracked = taskPaths.map { _ in [] }
        trackedSets = taskPaths.map { _ in [] }
    }

    /// The rows with the `count` highest finite losses, highest first; equal losses go to the
    /// lower row.
    public static func worst(_ loss: (Int) -> Float, rows: Int, count: Int) -> [Int] {
        // One pass keeping the `count` worst so far, sorted: an epoch has hundreds of thousands
        // of rows and wants ten of them, so sorting them all would cost more than the ranking.
        guard count > 0 else { return [] }
        func before(_ a: Int, _ b: Int) -> Bool { (loss(a), b) > (loss(b), a) }
        var kept: [Int] = []
        kept.reserveCapacity(count + 1)
        for row in 0..<rows where loss(row).isFinite {
            if kept.count == count, let last = kept.last, !before(row, last) { continue }
            let at = kept.firstIndex { before(row, $0) } ?? kept.count
            kept.insert(row, at: at)
            if kept.count > count { kept.removeLast() }
        }
        return kept
    }

    /// Ranks the epoch's losses: per task the worst rows with their rank, then the rows tracked
    /// from earlier epochs that are not among them, rank empty (loss empty when not trained).
    public mutating func add(epoch: Int, losses: SampleLosses) {
        for (t, path) in taskPaths.enumerated() {
            let worst = Self.worst({ losses.loss(row: $0, task: t) }, rows: losses.rows, count: count)
            let ranked = Set(worst)
            func line(_ rank: String, _ row: Int) {
                let loss = losses.loss(row: row, task: t)
                csv.append([String(epoch), path, rank, String(sourceRows[row]), loss.isFinite ? "\(loss)" : ""])
            }
            for (rank, row) in worst.enumerated() { line(String(rank + 1), row) }
            for row in tracked[t] where !ranked.contains(row) { line("", row) }
            for row in worst where trackedSets[t].insert(row).inserted { tracked[t].append(row) }
        }
    }

    /// Continues from `worst_samples.csv` as a checkpoint kept it: the lines, and which rows
    /// each task tracks. False when the text does not belong to this training split.
    public mutating func restore(_ text: String) -> Bool {
        guard !text.isEmpty else { return true }
        guard let table = try? CSVTable.parse(Array(text.utf8), file: WorstSamplesLog.header.joined()),
              table.header == Self.header else { return false }
        let index = Dictionary(sourceRows.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let tasks = Dictionary(taskPaths.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for line in 0..<table.rowCount {
            guard let t = tasks[table.string(row: line, column: 1)],
                  let row = Int(table.string(row: line, column: 3)).flatMap({ index[$0] }) else { return false }
            if trackedSets[t].insert(row).inserted { tracked[t].append(row) }
        }
        csv = CSVWriter(continuing: text)
        return true
    }
}
