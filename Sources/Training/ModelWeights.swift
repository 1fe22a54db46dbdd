import Engine
import FileFormats

/// A plan's parameters and running statistics as safetensors tensors, by name.
public enum ModelWeights {
    static func tensors(of plan: Plan) -> [SafetensorsWriter.Tensor] {
        plan.parameters.map { p in
            SafetensorsWriter.Tensor(name: p.name, shape: p.shape, values: UnsafeBufferPointer(start: p.value, count: p.count))
        } + plan.state.map { s in
            SafetensorsWriter.Tensor(name: s.name, shape: s.shape,
                                     values: UnsafeBufferPointer(start: s.data, count: s.shape.reduce(1, *)))
        }
    }

    static func save(_ plan: Plan, to path: String, metadata: [String: String]) throws(Problem) {
        try SafetensorsWriter.write(tensors(of: plan), metadata: metadata, to: path)
    }

    /// Loads every tensor of the plan from `path`; names and shapes must match.
    public static func load(_ plan: Plan, from path: String) throws(Problem) {
        let file = try SafetensorsReader.read(path: path)
        func fill(_ name: String, _ shape: [Int], _ target: UnsafeMutablePointer<Float>) throws(Problem) {
            guard let tensor = file.tensors[name] else {
                throw Problem(file: path, message: "has no tensor '\(name)'; was it written for this flow?")
            }
            guard tensor.shape == shape else {
                throw Problem(file: path, message: "tensor '\(name)' is \(tensor.shape), the model needs \(shape)")
            }
            target.update(from: tensor.values, count: tensor.values.count)
        }
        for p in plan.parameters { try fill(p.name, p.shape, p.value) }
        for s in plan.state { try fill(s.name, s.shape, s.data) }
    }
}
