import FileFormats

/// An ONNX graph under construction: nodes appended in the order they compute (a topological
/// order, as onnx.proto requires), constants as initializers, and value names made unique from
/// readable hints (`trunk.common.0.conv`, `trunk.common.0.conv_1`, …).
final class ONNXGraphBuilder {
    private(set) var graph: ONNXGraph
    /// The ai.onnx operator set the graph is written for.
    let opset: Int
    private var uses: [String: Int] = [:]
    /// Names kept for graph outputs: no other value takes them.
    private var reserved: Set<String> = []

    init(name: String, opset: Int) {
        graph = ONNXGraph(name: name)
        self.opset = opset
    }

    /// A name no other value or node of the graph has: `hint`, else `hint_1`, `hint_2`, ….
    func fresh(_ hint: String) -> String {
        var name = hint
        while let count = uses[name] {
            uses[name] = count + 1
            name = "\(hint)_\(count)"
        }
        uses[name] = 1
        return name
    }

    /// Keeps `names` for graph outputs, so that no value built before them takes one.
    func reserve(_ names: [String]) {
        for name in names where !reserved.contains(name) {
            reserved.insert(fresh(name))
        }
    }

    /// Appends a node of `op` and returns the name of its one output.
    @discardableResult
    func add(_ op: String, _ inputs: [String], _ hint: String, domain: String = "",
             _ attributes: [(name: String, value: ONNXAttribute)] = []) -> String {
        let output = fresh(hint)
        graph.nodes.append(ONNXNode(op, name: fresh("\(hint)/\(op)"), inputs: inputs, outputs: [output], domain: domain,
                                    attributes: attributes))
        return output
    }

    /// A constant of any element type.
    func tensor(_ hint: String, dimensions: [Int64], _ values: ONNXTensor.Values) -> String {
        let name = fresh(hint)
        graph.initializers.append(ONNXTensor(name: name, dimensions: dimensions, values: values))
        return name
    }

    /// A float constant of `shape` (row-major `values`); shape [] is a scalar.
    func constant(_ hint: String, _ values: [Float], shape: [Int]) -> String {
        precondition(values.count == shape.reduce(1, *), "\(hint): \(values.count) values for shape \(shape)")
        return tensor(hint, dimensions: shape.map(Int64.init), .floats(values))
    }

    /// A float scalar.
    func scalar(_ value: Float, _ hint: String) -> String { constant(hint, [value], shape: []) }

    /// An int64 constant of `shape` (the shapes, indices and axes operators read).
    func integers(_ hint: String, _ values: [Int64], shape: [Int]? = nil) -> String {
        tensor(hint, dimensions: (shape ?? [values.count]).map(Int64.init), .integers(values))
    }

    /// A graph input of `type`: the batch dimension `N` first, then `shape`.
    func input(_ name: String, _ type: ONNXElementType, shape: [Int]) -> String {
        let name = fresh(name)
        graph.inputs.append(ONNXValueInfo(name: name, elementType: type,
                                          shape: [.symbolic("N")] + shape.map { .fixed(Int64($0)) }))
        return name
    }

    /// Publishes `value` as the graph output `name` (an Identity node gives it that name).
    func output(_ value: String, as name: String, _ type: ONNXElementType, shape: [Int]) {
        let name = reserved.remove(name) ?? fresh(name)
        graph.nodes.append(ONNXNode("Identity", name: fresh("\(name)/Identity"), inputs: [value], outputs: [name]))
        graph.outputs.append(ONNXValueInfo(name: name, elementType: type,
                                           shape: [.symbolic("N")] + shape.map { .fixed(Int64($0)) }))
    }
}
