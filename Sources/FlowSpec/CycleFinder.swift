/// Cycles and dependency order in the small graphs of a flow: branches reading branches, tasks
/// whose preconditions name tasks. Edges point from a node to what it depends on.
enum CycleFinder {
    /// A cycle, starting at its member that comes first in the file, with the edge that leaves it.
    struct Cycle<Node: Hashable & Sendable> {
        var names: [Node]
        var firstEdge: Located<Node>
    }

    /// Cycles that share no member: one per tangle, since fixing one edge usually breaks the rest.
    static func cycles<Node: Hashable & Sendable>(nodes: [Node], edges: (Node) -> [Located<Node>]) -> [Cycle<Node>] {
        let rank = Dictionary(nodes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var state: [Node: Bool] = [:]  // false: on the current path; true: finished
        var path: [Node] = []
        var found: [Cycle<Node>] = []
        var reported: Set<Node> = []

        func visit(_ node: Node) {
            state[node] = false
            path.append(node)
            for edge in edges(node) where rank[edge.value] != nil {
                switch state[edge.value] {
                case nil:
                    visit(edge.value)
                case false?:
                    let start = path.lastIndex(of: edge.value)!
                    var members = Array(path[start...])
                    guard reported.isDisjoint(with: members) else { continue }
                    reported.formUnion(members)
                    let first = members.indices.min { rank[members[$0]]! < rank[members[$1]]! }!
                    members = Array(members[first...] + members[..<first])
                    let next = members.count > 1 ? members[1] : members[0]
                    let edge = edges(members[0]).first { $0.value == next }!
                    found.append(Cycle(names: members, firstEdge: edge))
                case true?:
                    break
                }
            }
            path.removeLast()
            state[node] = true
        }
        for node in nodes where state[node] == nil { visit(node) }
        return found
    }

    /// Nodes ordered so that each follows everything it depends on, otherwise in their given
    /// order. The graph must have no cycle.
    static func topologicalOrder<Node: Hashable>(nodes: [Node], edges: (Node) -> [Node]) -> [Node] {
        let known = Set(nodes)
        var placed: Set<Node> = []
        var order: [Node] = []
        var remaining = nodes
        while !remaining.isEmpty {
            guard let index = remaining.firstIndex(where: { node in
                edges(node).allSatisfy { placed.contains($0) || !known.contains($0) }
            }) else { break }
            let node = remaining.remove(at: index)
            placed.insert(node)
            order.append(node)
        }
        return order
    }
}
