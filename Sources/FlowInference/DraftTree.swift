/// The task tree of a drafted flow: nested flows from the targets' dotted paths
/// (`delivery.shipped_late` is the task `shipped_late` in the nested flow `delivery`), each
/// task and nested flow with the precondition its labels' holes show (`PreconditionInference`):
/// a nested flow's from the rows where any of its targets has a label, a task's within its
/// enclosing flows' conditions. No condition is kept that would make preconditions a cycle.
struct DraftTree {
    /// A task or a nested flow.
    final class Node {
        let name: String
        /// The dotted path from the root ("" for the root).
        let path: String
        var children: [Node] = []
        var task: DraftTask?
        var condition: [PreconditionInference.Atom] = []

        init(name: String, path: String) { (self.name, self.path) = (name, path) }

        /// The tasks at and below this node.
        var tasks: [DraftTask] { (task.map { [$0] } ?? []) + children.flatMap(\.tasks) }
    }

    let root = Node(name: "", path: "")
    let inference: PreconditionInference

    init(tasks: [DraftTask]) {
        for task in tasks {
            var node = root
            for name in task.path.split(separator: ".").map(String.init) {
                if let child = node.children.first(where: { $0.name == name }) {
                    node = child
                } else {
                    let child = Node(name: name, path: node.path.isEmpty ? name : node.path + "." + name)
                    node.children.append(child)
                    node = child
                }
            }
            node.task = task
        }
        inference = PreconditionInference(parents: tasks.compactMap { task in
            guard let codes = task.guess.codes else { return nil }
            if case .classification(let classes) = task.guess.kind {
                return PreconditionInference.Parent(path: task.path, codes: codes, classes: classes)
            }
            return PreconditionInference.Parent(path: task.path, codes: codes, classes: nil)
        })
        infer(root, given: [])
    }

    /// Infers the conditions of `node`'s children (top down: a nested flow's before its own
    /// children's, which are judged on the rows where it holds).
    private func infer(_ node: Node, given: [PreconditionInference.Atom]) {
        for child in node.children {
            let inside = Set(child.tasks.map(\.path))
            let present: [Bool]
            if let task = child.task {
                present = task.profile.present
            } else {
                let tasks = child.tasks
                present = (0..<(tasks.first?.profile.rows ?? 0)).map { row in tasks.contains { $0.profile.present[row] } }
            }
            // A parent that already depends on something inside would close a cycle.
            let cyclic = Set(inference.parents.map(\.path).filter { dependsOnAny($0, inside) })
            child.condition = inference.condition(present: present, excluding: inside.union(cyclic), given: given)
            infer(child, given: given + child.condition)
        }
    }

    /// Whether the task at `path` depends, through its conditions and its enclosing flows', on
    /// one of `targets`.
    private func dependsOnAny(_ path: String, _ targets: Set<String>) -> Bool {
        var seen = Set<String>(), stack = [path]
        while let current = stack.popLast() {
            if targets.contains(current) { return true }
            guard seen.insert(current).inserted else { continue }
            stack += conditionsOnPath(current).map(\.parent)
        }
        return false
    }

    /// The atoms of the node at `path` and of every nested flow enclosing it.
    private func conditionsOnPath(_ path: String) -> [PreconditionInference.Atom] {
        var node = root, atoms: [PreconditionInference.Atom] = []
        for name in path.split(separator: ".").map(String.init) {
            guard let child = node.children.first(where: { $0.name == name }) else { break }
            atoms += child.condition
            node = child
        }
        return atoms
    }
}
