/// Cycles and dependency order in the graphs of a flow: branches reading branches, tasks whose
/// preconditions name tasks. Edges point from a node to what it depends on. Both walks are
/// iterative and linear, so a flow of thousands of tasks neither overflows the stack nor waits.
enum CycleFinder {
    /// A cycle, starting at its member that comes first in the file, with the edge that leaves it.
    struct Cycle<Node: Hashable & Sendable> {
        var names: [Node]
        var firstEdge: Located<Node>
    }

    /// Cycles that share no member: one per tangle, since fixing one edge usually breaks the rest.
    static func cycles<Node: Hashable & Sendable>(nodes: [Node], edges: (Node) -> [Located<Node>]) -> [Cycle<Node>] {
        let rank = Dictionary(nodes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var finished = Set<Node>()
        var onPath = Set<Node>()
        var reported = Set<Node>()
        var found: [Cycle<Node>] = []
        // Depth-first search with an explicit stack of (node, its edges, next edge to follow).
        for root in nodes where !finished.contains(root) {
            var stack: [(node: Node, edges: [Located<Node>], next: Int)] = [(root, edges(root), 0)]
            onPath.insert(root)
            while !stack.isEmpty {
                let top = stack.count - 1
                guard stack[top].next < stack[top].edges.count else {
                    onPath.remove(stack[top].node)
                    finished.insert(stack[top].node)
                    stack.removeLast()
                    continue
                }
                let target = stack[top].edges[stack[top].next].value
                stack[top].next += 1
                guard rank[target] != nil, !finished.contains(target) else { continue }
                if onPath.contains(target) {
                    let start = stack.lastIndex { $0.node == target }!
                    var members = stack[start...].map(\.node)
                    guard reported.isDisjoint(with: members) else { continue }
                    reported.formUnion(members)
                    let first = members.indices.min { rank[members[$0]]! < rank[members[$1]]! }!
                    members = Array(members[first...] + members[..<first])
                    let next = members.count > 1 ? members[1] : members[0]
                    found.append(Cycle(names: members, firstEdge: edges(members[0]).first { $0.value == next }!))
                } else {
                    onPath.insert(target)
                    stack.append((target, edges(target), 0))
                }
            }
        }
        return found
    }

    /// Nodes ordered so that each follows everything it depends on and, among the nodes ready
    /// at any moment, the one given first comes first. Nodes on a cycle, or behind one, are
    /// left out.
    static func topologicalOrder<Node: Hashable>(nodes: [Node], edges: (Node) -> [Node]) -> [Node] {
        let rank = Dictionary(nodes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var waitingOn = [Int](repeating: 0, count: nodes.count)
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for dependency in Set(edges(node)) {
                guard let d = rank[dependency] else { continue }
                waitingOn[index] += 1
                dependents[d].append(index)
            }
        }
        var ready = MinHeap(nodes.indices.filter { waitingOn[$0] == 0 })
        var order: [Node] = []
        while let index = ready.pop() {
            order.append(nodes[index])
            for dependent in dependents[index] {
                waitingOn[dependent] -= 1
                if waitingOn[dependent] == 0 { ready.push(dependent) }
            }
        }
        return order
    }
}

/// A binary min-heap of indices: the ready node given first is taken first.
private struct MinHeap {
    private var items: [Int] = []

    init(_ values: [Int]) { values.forEach { push($0) } }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return top }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
