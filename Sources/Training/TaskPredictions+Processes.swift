import ProcessGroups
import Tasks

extension TaskPredictions {
    /// Every process's predictions, one after the other in rank order, on every process: what
    /// the metrics that rank or sort the scores (ROC AUC, quantiles) need of all of them.
    mutating func gather(across processes: any ProcessGroup) {
        let mine = collected
        let scores = processes.allgather(mine.scores), labels = processes.allgather(mine.labels)
        let counted = processes.allgather(mine.counted.map { $0 ? Float(1) : 0 }).map { $0 != 0 }
        restore(scores: scores, labels: labels, counted: counted)
    }
}
