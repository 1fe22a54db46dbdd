import Engine

/// Copies rows of an encoded split into a compiled model's input, target and mask tensors, the
/// rows split between the pool's threads. Allocates nothing: it runs once per step.
public final class Batcher: ParallelLoop {
    public let model: CompiledModel
    /// The split and rows of the fill under way, for `run`.
    private var split: EncodedSplit?
    private var rows: ArraySlice<Int> = []
    /// Values copied per row, plus a few for each tensor's loop: what `fill` tells the pool.
    private let costPerRow: Int

    /// Whether the masked language models' tokens are masked (evaluation's fixed masking,
    /// seeded by `maskingSeed`); otherwise the text stays as written and they count nowhere.
    public var masksTokens = false
    public var maskingSeed = 0

    public init(model: CompiledModel) {
        self.model = model
        let tensors = Array(model.inputs.values) + model.tasks.flatMap { [$0.targets, $0.mask] }
        costPerRow = tensors.reduce(0) { $0 + $1.sampleSize + 16 }
    }

    public func fill(_ split: EncodedSplit, rows: ArraySlice<Int>) {
        self.split = split
        self.rows = rows
        model.plan.pool.parallelFor(rows.count, costPerItem: costPerRow, self)
        self.split = nil
    }

    /// Batch rows `items` of the fill under way.
    public func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        guard let split else { return }
        let rows = self.rows[(self.rows.startIndex + items.lowerBound)..<(self.rows.startIndex + items.upperBound)]
        let first = items.lowerBound
        for (name, tensor) in model.inputs {
            guard let input = split.inputs[name] else { continue }
            Self.gather(input, rows: rows, size: tensor.sampleSize, into: tensor.data + first * tensor.sampleSize)
        }
        for (t, task) in model.tasks.enumerated() {
            let (targets, mask) = (task.targets, task.mask)
            Self.gather(split.targets[t], rows: rows, size: targets.sampleSize, into: targets.data + first * targets.sampleSize)
            Self.gather(split.masks[t], rows: rows, size: mask.sampleSize, into: mask.data + first * mask.sampleSize)
        }
        // Drawn by the row's index in the whole split, whichever process holds it.
        for masking in model.tokenMasking {
            for (b, row) in zip(items, rows) {
                if masksTokens {
                    masking.apply(sample: b, row: split.firstRow + row, seed: maskingSeed, epoch: nil)
                } else {
                    masking.clear(sample: b)
                }
            }
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
