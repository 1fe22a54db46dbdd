import FileFormats

/// The classes a `when:` names (`kind == car`, `kind in [car, bus]`) checked against the task's
/// classes. A class that is not one would make the condition false on every row, and the task
/// would silently train on nothing: `check` reports it when the flow lists the classes, and
/// training once the training split has given them.
public enum ConditionClasses {
    /// The error for a class `task` does not have, at the class as written in the condition.
    /// `context` says whose `when:` it is (`task 'x'`, `flow 'g'`); `source` where the classes
    /// come from (`its classes`, `the training split's classes`).
    static func unknown(_ value: Located<String>, task: String, classes: [String], context: String,
                        source: String) -> Problem {
        let listed = classes.count <= 12 ? classes.joined(separator: ", ")
            : classes.prefix(10).joined(separator: ", ") + ", … (\(classes.count) in all)"
        return Problem("\(context): '\(task)' has no class '\(value.value)'; \(source) are \(listed)",
                       at: value.location, hint: Suggestion.hint(for: value.value, among: classes))
    }

    /// Every class named in the flow's conditions that its task does not have, where the task's
    /// classes were learnt from the training data (`classes`, by task path); listed classes
    /// were checked when the flow was loaded. In file order.
    public static func unknown(in flow: ResolvedFlow, classes: [TaskPath: [String]]) -> [Problem] {
        let learnt = Set(flow.tasks.filter { $0.spec.type == .classification && $0.spec.classes == nil }.map(\.path))
        var problems: [Problem] = []
        func visit(_ condition: Condition<TaskPath>, context: String) {
            switch condition {
            case .isTrue:
                break
            case .equals(let path, let value):
                check(path, [value], context)
            case .isIn(let path, let values):
                check(path, values, context)
            case .not(let inner):
                visit(inner, context: context)
            case .and(let a, let b), .or(let a, let b):
                visit(a, context: context)
                visit(b, context: context)
            }
        }
        func check(_ path: TaskPath, _ values: [Located<String>], _ context: String) {
            guard learnt.contains(path), let known = classes[path] else { return }
            for value in values where !known.contains(value.value) {
                problems.append(unknown(value, task: path.description, classes: known, context: context,
                                        source: "the training split's classes"))
            }
        }
        // Each `when:` as written: a task's own, and a nested flow's once (not in every task below it).
        for task in flow.tasks {
            if let own = task.ownPrecondition { visit(own, context: "task '\(task.path)'") }
        }
        func visitFlows(_ nodes: [TaskTreeNode]) {
            for case let .flow(path, when, children) in nodes {
                if let when { visit(when, context: "flow '\(path)'") }
                visitFlows(children)
            }
        }
        visitFlows(flow.tree)
        return problems.sorted { a, b in
            (a.location?.line ?? 0, a.location?.column ?? 0) < (b.location?.line ?? 0, b.location?.column ?? 0)
        }
    }
}
