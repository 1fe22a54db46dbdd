import FileFormats
import Foundation
import ProcessGroups

/// Collects the problems of one pass over the data, so that a user fixing a file sees the first
/// few at once, in file order, and how many there are, instead of one per attempt.
struct DataProblems {
    /// Problems shown.
    static let shown = 10
    /// Problems kept for sorting into file order; beyond this they are only counted.
    private static let kept = 10_000
    private var problems: [Problem] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func add(_ problem: Problem) {
        count += 1
        if problems.count < Self.kept { problems.append(problem) }
    }

    /// Adds what another list found (a parallel worker's).
    mutating func add(contentsOf other: DataProblems) {
        count += other.count
        problems += other.problems.prefix(Self.kept - problems.count)
    }

    /// The problems kept, in file order (file, line, field).
    private var inFileOrder: [Problem] {
        problems.sorted { a, b in
            let x = a.location, y = b.location
            return (x?.file ?? "", x?.line ?? 0, x?.column ?? 0) < (y?.file ?? "", y?.line ?? 0, y?.column ?? 0)
        }
    }

    /// The problems of every process of `processes` together, each having read its part of the
    /// data: what one process reading it all would have found, as far as `check` shows it (each
    /// process tells the others the first problems it would show, and its count).
    func gathered(across processes: any ProcessGroup) -> DataProblems {
        guard processes.size > 1 else { return self }
        let part = Part(problems: Array(inFileOrder.prefix(Self.shown)), count: count)
        let parts = processes.allgather(bytes: Array((try? JSONEncoder().encode(part)) ?? Data()))
        var whole = DataProblems()
        for part in parts.compactMap({ try? JSONDecoder().decode(Part.self, from: Data($0)) }) {
            whole.problems += part.problems
            whole.count += part.count
        }
        return whole
    }

    /// What one process tells the others in `gathered`.
    private struct Part: Codable {
        var problems: [Problem]
        var count: Int
    }

    /// Throws the first problems in file order (file, line, field), if there are any.
    func check() throws(Problem) {
        let sorted = inFileOrder
        guard var first = sorted.first else { return }
        first.further = Array(sorted.dropFirst().prefix(Self.shown - 1))
        first.unreported = count - 1 - first.further.count
        throw first
    }
}
