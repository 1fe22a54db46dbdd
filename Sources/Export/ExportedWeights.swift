import Engine
import FileFormats

/// A trained run's tensors by the names `model.safetensors` gives them (`ModelCompiler`'s
/// names): every parameter and every running statistic, as the compiled model loaded them.
struct ExportedWeights {
    private var tensors: [String: (shape: [Int], values: [Float])] = [:]
    /// The weights file, for the message of a tensor that is not there.
    let file: String

    init(_ plan: Plan, file: String) {
        self.file = file
        for p in plan.parameters {
            tensors[p.name] = (p.shape, Array(UnsafeBufferPointer(start: p.value, count: p.count)))
        }
        for s in plan.state {
            tensors[s.name] = (s.shape, Array(UnsafeBufferPointer(start: s.data, count: s.shape.reduce(1, *))))
        }
    }

    /// The tensor `name`; the model was compiled from the run's own flow, so a missing one means
    /// the weights file and the flow disagree.
    func callAsFunction(_ name: String) throws(Problem) -> (shape: [Int], values: [Float]) {
        guard let tensor = tensors[name] else {
            throw Problem(file: file, message: "has no tensor '\(name)', which the run's flow.yaml needs",
                          hint: "was the run directory's flow.yaml edited after training?")
        }
        return tensor
    }
}
