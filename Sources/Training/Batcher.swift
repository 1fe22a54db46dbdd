import Engine

/// Copies rows of an encoded split into a compiled model's input, target and mask tensors.
/// Allocates nothing: it runs once per training step.
struct Batcher {
    let model: CompiledModel

    func fill(_ split: EncodedSplit, rows: ArraySlice<Int>) {
        for (name, tensor) in model.inputs {
            guard let input = split.inputs[name] else { continue }
            let size = tensor.sampleSize
            switch input {
            case .floats(let values, _):
                values.withUnsafeBufferPointer { source in
                    for (b, row) in rows.enumerated() {
                        (tensor.data + b * size).update(from: source.baseAddress! + row * size, count: size)
                    }
                }
            case .bytes(let values, _):
                values.withUnsafeBufferPointer { source in
                    for (b, row) in rows.enumerated() {
                        let from = source.baseAddress! + row * size, to = tensor.data + b * size
                        for i in 0..<size { to[i] = Float(from[i]) * (1 / 255) }
                    }
                }
            }
        }
        for (t, task) in model.tasks.enumerated() {
            copy(split.targets[t], into: task.targets, rows: rows)
            copy(split.masks[t], into: task.mask, rows: rows)
        }
    }

    private func copy(_ values: [Float], into tensor: Tensor, rows: ArraySlice<Int>) {
        let size = tensor.sampleSize
        values.withUnsafeBufferPointer { source in
            for (b, row) in rows.enumerated() {
                (tensor.data + b * size).update(from: source.baseAddress! + row * size, count: size)
            }
        }
    }
}
