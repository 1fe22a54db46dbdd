import FlowSpec

/// Which rows each task counts on, by the semantics of docs/semantics.md: a task counts on a
/// row when its value there is known and its effective precondition is true in three-valued
/// logic, where an atom about a task that does not count on the row is unknown.
///
/// The same evaluation serves the ground-truth view (values are labels, missing labels are
/// unknown: the training and metric masks) and the predicted view (values are decoded
/// predictions, always present: what `explain` prunes and `eval` counts in deployment).
public struct PreconditionMask {
    /// The tasks in evaluation order (each after the tasks its precondition names).
    public let tasks: [ResolvedTask]
    private let indexByPath: [TaskPath: Int]
    /// Per task, class name → index, for `==` and `in` atoms.
    private let classIndex: [[String: Int]]

    /// `classes` gives, for classification tasks, the class names in index order (the listed
    /// classes, or those found in the training data).
    public init(tasks: [ResolvedTask], classes: [TaskPath: [String]]) {
        self.tasks = tasks
        indexByPath = Dictionary(tasks.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
        classIndex = tasks.map { task in
            let names = classes[task.path] ?? task.spec.classes?.value ?? []
            return Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// `counts[t][r]` for every task t (in `tasks` order) and row r. `value(t, r)` is task t's
    /// value on row r — 0/1 for binary, a class index for classification, any number for the
    /// others — or nil when it is missing.
    public func counts(rows: Int, value: (Int, Int) -> Float?) -> [[Bool]] {
        var counts: [[Bool]] = []
        counts.reserveCapacity(tasks.count)
        for (t, task) in tasks.enumerated() {
            var column = [Bool](repeating: false, count: rows)
            for r in 0..<rows where value(t, r) != nil {
                column[r] = task.precondition.map { evaluate($0, row: r, counts: counts, value: value) == .yes } ?? true
            }
            counts.append(column)
        }
        return counts
    }

    /// Whether `condition` is true on row `r`, where `counts` (in `tasks` order) says which
    /// tasks count there: the test for a nested flow's own `when` in the predicted view.
    public func holds(_ condition: Condition<TaskPath>, row: Int, counts: [[Bool]],
                      value: (Int, Int) -> Float?) -> Bool {
        evaluate(condition, row: row, counts: counts, value: value) == .yes
    }

    /// Kleene's three truth values.
    enum Truth {
        case yes, no, unknown

        static prefix func ! (a: Truth) -> Truth {
            switch a {
            case .yes: .no
            case .no: .yes
            case .unknown: .unknown
            }
        }

        static func && (a: Truth, b: Truth) -> Truth {
            if a == .no || b == .no { return .no }
            return a == .yes && b == .yes ? .yes : .unknown
        }

        static func || (a: Truth, b: Truth) -> Truth {
            if a == .yes || b == .yes { return .yes }
            return a == .no && b == .no ? .no : .unknown
        }
    }

    func evaluate(_ condition: Condition<TaskPath>, row: Int, counts: [[Bool]],
                  value: (Int, Int) -> Float?) -> Truth {
        /// The referenced task's value where it counts; unknown otherwise.
        func known(_ path: TaskPath) -> (Int, Float)? {
            guard let t = indexByPath[path], t < counts.count, counts[t][row], let v = value(t, row) else { return nil }
            return (t, v)
        }
        switch condition {
        case .isTrue(let path):
            guard let (_, v) = known(path) else { return .unknown }
            return v >= 0.5 ? .yes : .no
        case .equals(let path, let name):
            guard let (t, v) = known(path) else { return .unknown }
            return classIndex[t][name.value].map { Float($0) == v } == true ? .yes : .no
        case .isIn(let path, let names):
            guard let (t, v) = known(path) else { return .unknown }
            return names.contains { classIndex[t][$0.value].map { Float($0) == v } == true } ? .yes : .no
        case .not(let inner):
            return !evaluate(inner, row: row, counts: counts, value: value)
        case .and(let a, let b):
            return evaluate(a, row: row, counts: counts, value: value) && evaluate(b, row: row, counts: counts, value: value)
        case .or(let a, let b):
            return evaluate(a, row: row, counts: counts, value: value) || evaluate(b, row: row, counts: counts, value: value)
        }
    }
}
