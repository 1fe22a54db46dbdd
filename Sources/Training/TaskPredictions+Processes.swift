import ProcessGroups
import Tasks

extension TaskPredictions {
    /// Every process's predictions, one after the other in rank order, on every process: what
    /// the metrics that rank or sort the scores (ROC AUC, quantiles) need of all of them.
    mutating func gather(across processes: any ProcessGroup) {
        let all = lengths
        gather(across: processes, pieces: [all.scores, all.labels, all.counted])
    }

    /// Every process's predictions on every process, piece by piece: each process's predictions
    /// are consecutive pieces (a training step's each), `pieces` giving each piece's numbers of
    /// scores, labels and flags, three numbers a piece and as many pieces on every process. The
    /// result holds every process's first piece in rank order, then every process's second, and
    /// so on.
    mutating func gather(across processes: any ProcessGroup, pieces: [Int]) {
        let lengths = processes.allgatherByRank(pieces)
        let mine = collected
        let scores = Self.inPieceOrder(processes.allgather(mine.scores), lengths, column: 0)
        let labels = Self.inPieceOrder(processes.allgather(mine.labels), lengths, column: 1)
        let counted = Self.inPieceOrder(processes.allgather(mine.counted.map { $0 ? Float(1) : 0 }), lengths, column: 2)
        restore(scores: scores, labels: labels, counted: counted.map { $0 != 0 })
    }

    /// `gathered`, every process's values one after the other in rank order, put piece by piece
    /// and within a piece in rank order; `lengths[rank][3 · piece + column]` is the length of
    /// that process's piece.
    private static func inPieceOrder(_ gathered: [Float], _ lengths: [[Int]], column: Int) -> [Float] {
        // Where each process's next piece starts in `gathered`.
        var starts = [0]
        for rank in lengths {
            starts.append(starts[starts.count - 1] + stride(from: column, to: rank.count, by: 3).reduce(0) { $0 + rank[$1] })
        }
        var ordered: [Float] = []
        ordered.reserveCapacity(gathered.count)
        for piece in stride(from: column, to: lengths.first?.count ?? 0, by: 3) {
            for (r, rank) in lengths.enumerated() {
                ordered += gathered[starts[r]..<(starts[r] + rank[piece])]
                starts[r] += rank[piece]
            }
        }
        return ordered
    }
}
