import Engine
import Foundation

/// Prepares the next training batch on a background thread while the current step runs: the
/// rows are gathered and images turned from bytes into floats in a staging buffer, and
/// `install` only copies that buffer into the model's tensors. Nothing is allocated per batch.
final class BatchPrefetcher: @unchecked Sendable {
    private let split: EncodedSplit
    /// The model's tensors a batch fills, in a fixed order, with their staging buffers.
    private let tensors: [Tensor]
    private let staging: [UnsafeMutablePointer<Float>]
    private let sources: [Source]
    private var rows: ArraySlice<Int> = []
    private let work = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private var stopping = false

    /// Where a tensor's values come from in the split.
    private enum Source {
        case input(String)
        case targets(Int)
        case mask(Int)
    }

    init(model: CompiledModel, split: EncodedSplit) {
        self.split = split
        var tensors: [Tensor] = [], sources: [Source] = []
        for (name, tensor) in model.inputs.sorted(by: { $0.key < $1.key }) where split.inputs[name] != nil {
            tensors.append(tensor)
            sources.append(.input(name))
        }
        for (t, task) in model.tasks.enumerated() {
            tensors += [task.targets, task.mask]
            sources += [.targets(t), .mask(t)]
        }
        self.tensors = tensors
        self.sources = sources
        staging = tensors.map { .allocate(capacity: $0.maxBatch * $0.sampleSize) }
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    deinit {
        for buffer in staging { buffer.deallocate() }
    }

    /// Starts preparing `rows` in the background.
    func start(_ rows: ArraySlice<Int>) {
        self.rows = rows
        work.signal()
    }

    /// Waits for the batch `start` began and copies it into the model's tensors.
    func install() -> Int {
        ready.wait()
        for (tensor, buffer) in zip(tensors, staging) {
            tensor.data.update(from: buffer, count: rows.count * tensor.sampleSize)
        }
        return rows.count
    }

    /// Ends the background thread once it has finished what it was doing.
    func stop() {
        stopping = true
        work.signal()
    }

    private func loop() {
        while true {
            work.wait()
            if stopping { return }
            for (index, source) in sources.enumerated() {
                let size = tensors[index].sampleSize, to = staging[index]
                switch source {
                case .input(let name): Batcher.gather(split.inputs[name]!, rows: rows, size: size, into: to)
                case .targets(let t): Batcher.gather(split.targets[t], rows: rows, size: size, into: to)
                case .mask(let t): Batcher.gather(split.masks[t], rows: rows, size: size, into: to)
                }
            }
            ready.signal()
        }
    }
}
