import FileFormats

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

    /// Throws the first problems in file order (file, line, field), if there are any.
    func check() throws(Problem) {
        let sorted = problems.sorted { a, b in
            let x = a.location, y = b.location
            return (x?.file ?? "", x?.line ?? 0, x?.column ?? 0) < (y?.file ?? "", y?.line ?? 0, y?.column ?? 0)
        }
        guard var first = sorted.first else { return }
        first.further = Array(sorted.dropFirst().prefix(Self.shown - 1))
        first.unreported = count - 1 - first.further.count
        throw first
    }
}
