/// Resolves every `when:` in the task tree to task paths, checks that each reference can be a
/// precondition, and composes each task's effective precondition along its path.
struct PreconditionResolver {
    let tree: TaskTree
    let sink: DiagnosticSink
    /// Each node's own `when`, resolved (nil where absent or broken).
    private(set) var own: [TaskPath: Condition<TaskPath>?] = [:]
    /// Each task's conditions from the outermost flow down, joined with `and`.
    private(set) var composed: [TaskPath: Condition<TaskPath>?] = [:]
    /// For each task, the tasks its composed precondition refers to, at the reference's location.
    private(set) var edges: [TaskPath: [Located<TaskPath>]] = [:]
    /// Who wrote the `when:` at a location (`task 'x'` or `flow 'g'`), for cycle messages.
    private(set) var ownerAt: [SourceLocation: String] = [:]
    /// Did-you-mean hints by name and scope: many tasks may share one typo.
    private var hints: [String: String?] = [:]

    init(tree: TaskTree, sink: DiagnosticSink) {
        self.tree = tree
        self.sink = sink
    }

    mutating func resolveAll() {
        var references: [TaskPath: [Located<TaskPath>]] = [:]
        for entry in tree.entries {
            guard let when = entry.node.when else { continue }
            // Every reference is checked, so that each unknown name is reported, not the first.
            // Targets are matched to references by position (left to right, as `map` visits
            // them): in an aliased or folded `when:` several names share one location.
            var targets: [TaskPath?] = []
            for name in when.references { targets.append(check(name, in: entry)) }
            var located: [Located<TaskPath>] = []
            for (name, target) in zip(when.references, targets) {
                guard let target else { continue }
                located.append(Located(value: target, location: name.location))
                ownerAt[name.location] = context(entry)
            }
            var next = 0
            own[entry.path] = .some(when.map { _ in
                defer { next += 1 }
                return targets[next]
            })
            references[entry.path] = located
            checkAtoms(when, in: entry)
        }
        for leaf in tree.leaves {
            var chain: [TaskPath] = []
            var cursor: TaskPath? = leaf.path
            while let path = cursor {
                chain.insert(path, at: 0)
                cursor = tree.node(path)?.parent
            }
            composed[leaf.path] = Condition.all(chain.compactMap { own[$0] ?? nil })
            edges[leaf.path] = chain.flatMap { references[$0] ?? [] }
        }
    }

    private func context(_ entry: TaskTree.Entry) -> String {
        entry.isFlow ? "flow '\(entry.path)'" : "task '\(entry.path)'"
    }

    /// The path a name refers to, or nil after reporting why it cannot be used.
    private mutating func check(_ name: Located<String>, in entry: TaskTree.Entry) -> TaskPath? {
        let context = context(entry)
        guard let target = tree.lookup(name.value, from: entry.parent) else {
            let broken = sink.brokenTasks
            if tree.candidatePaths(name.value, from: entry.parent).contains(where: { path in
                broken.contains(path) || broken.contains { path.hasPrefix($0 + ".") || $0.isEmpty }
            }) {
                return nil  // declared, but broken: reported where it is declared
            }
            let key = "\(name.value) \(entry.parent?.description ?? "")"
            if hints[key] == nil { hints[key] = .some(tree.suggestion(for: name.value, from: entry.parent)) }
            sink.error("\(context): precondition refers to unknown task '\(name.value)'", at: name.location,
                       hint: hints[key] ?? nil)
            return nil
        }
        if target.path == entry.path {
            sink.error("\(context): precondition refers to the \(entry.isFlow ? "flow" : "task") itself",
                       at: name.location)
            return nil
        }
        if target.isFlow {
            sink.error("\(context): precondition refers to '\(target.path)', a nested flow; "
                       + "name one of its tasks", at: name.location)
            return nil
        }
        if entry.isFlow, target.path.components.starts(with: entry.path.components) {
            sink.error("\(context): precondition refers to '\(target.path)', which is inside this flow "
                       + "and so would depend on itself", at: name.location)
            return nil
        }
        return target.path
    }

    /// Checks each atom against the type of the task it names: a bare name needs a binary task,
    /// `==` and `in` a classification task with that class (when its classes are listed).
    private func checkAtoms(_ condition: Condition<Located<String>>, in entry: TaskTree.Entry) {
        let context = context(entry)
        switch condition {
        case .not(let inner):
            checkAtoms(inner, in: entry)
        case .and(let a, let b), .or(let a, let b):
            checkAtoms(a, in: entry)
            checkAtoms(b, in: entry)
        case .isTrue(let name):
            guard let spec = target(name, entry) else { return }
            switch spec.type {
            case .binary: break
            case .classification:
                sink.error("\(context): '\(name.value)' is a classification task; compare it with a class: "
                           + "'\(name.value) == <class>' or '\(name.value) in [<class>, ...]'", at: name.location)
            default:
                cannotGate(name, spec, context)
            }
        case .equals(let name, let value):
            checkClasses(name, [value], context, entry)
        case .isIn(let name, let values):
            checkClasses(name, values, context, entry)
        }
    }

    private func checkClasses(_ name: Located<String>, _ values: [Located<String>], _ context: String,
                              _ entry: TaskTree.Entry) {
        guard let spec = target(name, entry) else { return }
        switch spec.type {
        case .classification:
            guard let classes = spec.classes?.value else { return }  // classes come from the data
            for value in values where !classes.contains(value.value) {
                sink.report(ConditionClasses.unknown(value, task: name.value, classes: classes, context: context,
                                                     source: "its classes"))
            }
        case .binary:
            sink.error("\(context): comparing with a class needs a classification task; '\(name.value)' "
                       + "is binary, so write '\(name.value)' or 'not \(name.value)'", at: name.location)
        default:
            cannotGate(name, spec, context)
        }
    }

    private func cannotGate(_ name: Located<String>, _ spec: TaskSpec, _ context: String) {
        sink.error("\(context): '\(name.value)' is a \(spec.type.rawValue) task and cannot be a precondition; "
                   + "only binary and classification tasks can", at: name.location)
    }

    /// The spec of the task a name resolves to, when it resolved to a task other than the entry.
    private func target(_ name: Located<String>, _ entry: TaskTree.Entry) -> TaskSpec? {
        guard let target = tree.lookup(name.value, from: entry.parent), target.path != entry.path,
              !(entry.isFlow && target.path.components.starts(with: entry.path.components))
        else { return nil }
        return target.spec
    }
}
