import Foundation
import ProcessGroups

/// How often each value occurs in the training rows, per category or tokens input and per
/// classification task, and the names the multilabel tasks' labels use: what vocabularies
/// (with their `min_count`) and classes are made of. Each process counts its own rows;
/// `merged(across:)` adds every process's counts in rank order, as one process adds its
/// blocks' in row order, so a value spelt in two canonically equal ways keeps the spelling it
/// has first in the file, as it does in one process.
struct ValueCounts: Codable, Equatable {
    /// Per input, then per task (the order of the flow's inputs and tasks).
    var values: [[String: Int]]
    /// Per task.
    var labelNames: [[String]]

    func merged(across processes: any ProcessGroup) -> ValueCounts {
        guard processes.size > 1, let encoded = try? JSONEncoder().encode(self) else { return self }
        let parts = processes.allgather(bytes: Array(encoded)).compactMap { bytes in
            try? JSONDecoder().decode(ValueCounts.self, from: Data(bytes))
        }
        var whole = ValueCounts(values: values.map { _ in [:] }, labelNames: labelNames.map { _ in [] })
        var names = labelNames.map { _ in Set<String>() }
        for part in parts {
            for (slot, counts) in part.values.enumerated() { whole.values[slot].merge(counts, uniquingKeysWith: +) }
            for (t, labels) in part.labelNames.enumerated() { names[t].formUnion(labels) }
        }
        whole.labelNames = names.map { Array($0) }
        return whole
    }
}
