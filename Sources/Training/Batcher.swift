import Engine

/// Copies rows of an encoded split into a compiled model's input, target and mask tensors.
/// Allocates nothing: it runs once per step (`BatchPrefetcher` runs the same copies into its
/// staging buffers on a background thread).
public struct Batcher {
    public let model: CompiledModel

    public init(model: CompiledModel) { self.model = model }

    public func fill(_ split: EncodedSplit, rows: ArraySlice<Int>) {
        for (name, tensor) in model.inputs {
            guard let input = split.inputs[name] else { continue }
            Self.gather(input, rows: rows, size: tensor.sampleSize, into: tensor.data)
        }
        for (t, task) in model.tasks.enumerated() {
            Self.gather(split.targets[t], rows: rows, size: task.targets.sampleSize, into: task.targets.data)
            Self.gather(split.masks[t], rows: rows, size: task.mask.sampleSize, into: task.mask.data)
        }
    }

    /// `size` values per row, for `rows` in order, into consecutive samples of `destination`;
    /// image bytes become floats in [0, 1], category indices one-hot rows.
    static func gather(_ input: EncodedInput, rows: ArraySlice<Int>, size: Int, into destination: UnsafeMutablePointer<Float>) {
        switch input {
        case .floats(let values, _):
            gather(values, rows: rows, size: size, into: destination)
        case .bytes(let values, _):
            values.withUnsafeBufferPointer { source in
                for (b, row) in rows.enumerated() {
                    let from = source.baseAddress! + row * size, to = destination + b * size
                    for i in 0..<size { to[i] = Float(from[i]) * (1 / 255) }
                }
            }
        case .oneHot(let ids, _):
            ids.withUnsafeBufferPointer { source in
                for (b, row) in rows.enumerated() {
                    let to = destination + b * size
                    to.update(repeating: 0, count: size)
                    to[Int(source[row])] = 1
                }
            }
        }
    }

    static func gather(_ values: [Float], rows: ArraySlice<Int>, size: Int, into destination: UnsafeMutablePointer<Float>) {
        values.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            // Most of a tabular batch's tensors hold a value or a few per row (a target, a mask,
            // a category's index): a call to memmove per row would cost more than the copy.
            if size <= 16 {
                for (b, row) in rows.enumerated() {
                    let from = base + row * size, to = destination + b * size
                    for i in 0..<size { to[i] = from[i] }
                }
            } else {
                for (b, row) in rows.enumerated() { (destination + b * size).update(from: base + row * size, count: size) }
            }
        }
    }
}
