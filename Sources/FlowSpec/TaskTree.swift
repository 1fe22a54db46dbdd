/// The task tree flattened into paths, with the name lookup of `when:` expressions:
/// a name resolves among the siblings first, then among the siblings of each enclosing flow.
struct TaskTree {
    /// One node of the tree with its path and the path of the flow that holds it.
    struct Entry {
        var path: TaskPath
        var parent: TaskPath?
        var node: TaskNode

        var isFlow: Bool {
            if case .flow = node.content { return true }
            return false
        }

        var spec: TaskSpec? {
            if case .task(let spec) = node.content { return spec }
            return nil
        }
    }

    /// Every node in file order, depth first.
    private(set) var entries: [Entry] = []
    private var indexByPath: [TaskPath: Int] = [:]
    private var childrenByParent: [TaskPath?: [Int]] = [:]

    init(_ roots: [TaskNode]) {
        add(roots, parent: nil)
    }

    private mutating func add(_ nodes: [TaskNode], parent: TaskPath?) {
        var seen = Set<String>()
        for node in nodes where seen.insert(node.name).inserted {  // duplicates were reported when decoding
            let path = TaskPath((parent?.components ?? []) + [node.name])
            indexByPath[path] = entries.count
            childrenByParent[parent, default: []].append(entries.count)
            entries.append(Entry(path: path, parent: parent, node: node))
            if case .flow(let children) = node.content { add(children, parent: path) }
        }
    }

    /// The tasks (not the flows), in file order.
    var leaves: [Entry] { entries.filter { !$0.isFlow } }

    func node(_ path: TaskPath) -> Entry? { indexByPath[path].map { entries[$0] } }

    func children(of parent: TaskPath?) -> [Entry] { (childrenByParent[parent] ?? []).map { entries[$0] } }

    /// Resolves `name` as seen from inside `scope`. A full dotted path from the root always
    /// means that task; otherwise the name is looked up relative to the scope (siblings first),
    /// then to each enclosing flow.
    func lookup(_ name: String, from scope: TaskPath?) -> Entry? {
        let parts = name.split(separator: ".").map(String.init)
        if parts.count > 1, let entry = node(TaskPath(parts)) { return entry }
        var base = scope?.components ?? []
        while true {
            if let entry = node(TaskPath(base + parts)) { return entry }
            if base.isEmpty { return nil }
            base.removeLast()
        }
    }

    /// Every path `name` could mean from inside `scope`, nearest first (whether or not it exists).
    func candidatePaths(_ name: String, from scope: TaskPath?) -> [String] {
        var base = scope?.components ?? []
        var paths = [TaskPath(base + name.split(separator: ".").map(String.init)).description]
        while !base.isEmpty {
            base.removeLast()
            paths.append(TaskPath(base + name.split(separator: ".").map(String.init)).description)
        }
        return paths
    }

    /// How a task is written from inside `scope`: its bare name when that resolves to it, else
    /// its full path.
    func shortestName(of entry: Entry, from scope: TaskPath?) -> String {
        lookup(entry.path.name, from: scope)?.path == entry.path ? entry.path.name : entry.path.description
    }

    /// A did-you-mean for an unknown `name` seen from `scope`, naming the task the way that
    /// resolves from there: a task elsewhere with exactly that name, or the nearest spelling.
    func suggestion(for name: String, from scope: TaskPath?) -> String? {
        let visible = entries.filter { !$0.isFlow }
        if let same = visible.first(where: { $0.path.name == name }) {
            return "did you mean '\(shortestName(of: same, from: scope))'?"
        }
        let names = visible.flatMap { [shortestName(of: $0, from: scope), $0.path.description] }
        return Suggestion.hint(for: name, among: names)
    }
}
