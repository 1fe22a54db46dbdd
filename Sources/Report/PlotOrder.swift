import FlowSpec
import Evaluation

/// Where a plot goes among its kind in report.html: at its task's place in the flow file.
/// A plot's name (its file name without the kind and `.svg`) is the task's file-safe path,
/// optionally followed by `-` and more (a label). Looking the name and its cuts at each `-` up
/// in a table costs one pass over the name, so ordering the plots of thousands of tasks stays
/// a plain sort (comparing every name with every task path made it quadratic).
struct PlotOrder {
    private var positions: [String: Int] = [:]
    private let unknown: Int

    init(_ flow: ResolvedFlow) {
        let order = PredictionTable.fileOrder(flow.tree)
        for (position, t) in order.enumerated() {
            let name = Interpretation.safeName(flow.tasks[t].path.description)
            if positions[name] == nil { positions[name] = position }
        }
        unknown = order.count
    }

    /// The position in the flow of the task with the longest path that `name` starts with
    /// (all of it, or up to a `-`); after every task when none does.
    func rank(_ name: String) -> Int {
        if let position = positions[name] { return position }
        var end = name.endIndex
        while let dash = name[..<end].lastIndex(of: "-") {
            if let position = positions[String(name[..<dash])] { return position }
            end = dash
        }
        return unknown
    }
}
