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
    /// Per task, its effective precondition with tasks and classes as indices.
    private let preconditions: [IndexedCondition?]

    /// `classes` gives, for classification tasks, the class names in index order (the listed
    /// classes, or those found in the training data).
    public init(tasks: [ResolvedTask], classes: [TaskPath: [String]]) {
        self.tasks = tasks
        indexByPath = Dictionary(tasks.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { a, _ in a })
        classIndex = tasks.map { task in
            let names = classes[task.path] ?? task.spec.classes?.value ?? []
            return Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let (indexByPath, classIndex) = (indexByPath, classIndex)
        preconditions = tasks.map { $0.precondition.map { Self.indexed($0, indexByPath, classIndex) } }
    }

    /// `counts[t][r]` for every task t (in `tasks` order) and row r. `values[t][r]` is task t's
    /// value on row r — 0/1 for binary, a class index for classification, any number for the
    /// others — or nil when it is missing.
    public func counts(values: [[Float?]]) -> [[Bool]] {
        let rows = values.first?.count ?? 0
        var counts: [[Bool]] = []
        counts.reserveCapacity(tasks.count)
        for t in tasks.indices {
            let truth = preconditions[t].map { truths($0, rows: rows, counts: counts, values: values) }
            counts.append(values[t].withUnsafeBufferPointer { own in
                [Bool](unsafeUninitializedCapacity: rows) { column, initialized in
                    for r in 0..<rows { column[r] = own[r] != nil && (truth?[r] ?? .yes) == .yes }
                    initialized = rows
                }
            })
        }
        return counts
    }

    /// `counts(values:)` with the values given by `value(t, r)`.
    public func counts(rows: Int, value: (Int, Int) -> Float?) -> [[Bool]] {
        counts(values: tasks.indices.map { t in (0..<rows).map { value(t, $0) } })
    }

    /// Whether `condition` is true on row `r`, where `counts` (in `tasks` order) says which
    /// tasks count there: the test for a nested flow's own `when` in the predicted view.
    public func holds(_ condition: Condition<TaskPath>, row: Int, counts: [[Bool]],
                      value: (Int, Int) -> Float?) -> Bool {
        truths(Self.indexed(condition, indexByPath, classIndex), rows: 1, counts: counts.map { [$0[row]] },
               values: tasks.indices.map { [value($0, row)] })[0] == .yes
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

    /// A condition whose task references are positions in `tasks` (nil: not one of them, so
    /// always unknown) and whose class names are class indices (a name that is not a class
    /// never matches): resolved once, evaluated on every row.
    private indirect enum IndexedCondition {
        case isTrue(Int?)
        case isIn(Int?, [Float])
        case not(IndexedCondition)
        case and(IndexedCondition, IndexedCondition)
        case or(IndexedCondition, IndexedCondition)
    }

    private static func indexed(_ condition: Condition<TaskPath>, _ indexByPath: [TaskPath: Int],
                                _ classIndex: [[String: Int]]) -> IndexedCondition {
        func classes(_ path: TaskPath, _ names: [Located<String>]) -> IndexedCondition {
            let t = indexByPath[path]
            return .isIn(t, t.map { t in names.compactMap { classIndex[t][$0.value].map(Float.init) } } ?? [])
        }
        switch condition {
        case .isTrue(let path): return .isTrue(indexByPath[path])
        case .equals(let path, let name): return classes(path, [name])
        case .isIn(let path, let names): return classes(path, names)
        case .not(let inner): return .not(indexed(inner, indexByPath, classIndex))
        case .and(let a, let b): return .and(indexed(a, indexByPath, classIndex), indexed(b, indexByPath, classIndex))
        case .or(let a, let b): return .or(indexed(a, indexByPath, classIndex), indexed(b, indexByPath, classIndex))
        }
    }

    /// The condition's truth on every row, a column at a time. `counts` holds the tasks
    /// evaluated so far (a task's precondition names only earlier tasks).
    private func truths(_ condition: IndexedCondition, rows: Int, counts: [[Bool]], values: [[Float?]]) -> [Truth] {
        /// Per row, `truth` of the referenced task's value where it counts; unknown otherwise.
        func known(_ t: Int?, _ truth: (Float) -> Truth) -> [Truth] {
            guard let t, t < counts.count else { return [Truth](repeating: .unknown, count: rows) }
            return counts[t].withUnsafeBufferPointer { counted in
                values[t].withUnsafeBufferPointer { value in
                    [Truth](unsafeUninitializedCapacity: rows) { result, initialized in
                        for r in 0..<rows {
                            if counted[r], let v = value[r] { result[r] = truth(v) } else { result[r] = .unknown }
                        }
                        initialized = rows
                    }
                }
            }
        }
        /// `a` and `b` combined row by row.
        func combine(_ a: IndexedCondition, _ b: IndexedCondition, _ operation: (Truth, Truth) -> Truth) -> [Truth] {
            var left = truths(a, rows: rows, counts: counts, values: values)
            let right = truths(b, rows: rows, counts: counts, values: values)
            for r in 0..<rows { left[r] = operation(left[r], right[r]) }
            return left
        }
        switch condition {
        case .isTrue(let t):
            return known(t) { $0 >= 0.5 ? .yes : .no }
        case let .isIn(t, classes):
            return known(t) { classes.contains($0) ? .yes : .no }
        case .not(let inner):
            var truth = truths(inner, rows: rows, counts: counts, values: values)
            for r in 0..<rows { truth[r] = !truth[r] }
            return truth
        case .and(let a, let b):
            return combine(a, b, &&)
        case .or(let a, let b):
            return combine(a, b, ||)
        }
    }
}
