import Engine
import FlowSpec
import Foundation

/// Prepares the next training batch on a background thread while the current step runs: the
/// rows are gathered and images turned from bytes into floats in a staging buffer, augmented
/// when their input has `augment:`, and `install` only copies that buffer into the model's
/// tensors. Nothing is allocated per batch.
final class BatchPrefetcher: @unchecked Sendable {
    private let split: EncodedSplit
    /// The model's tensors a batch fills, in a fixed order, with their staging buffers.
    private let tensors: [Tensor]
    private let staging: [UnsafeMutablePointer<Float>]
    private let sources: [Source]
    /// One per image input with `augment:`, working in the staging buffers.
    private let augmenters: [BatchAugmenter]
    private let seed: Int
    private var rows: ArraySlice<Int> = []
    private var position = (epoch: 0, step: 0)
    private let work = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private var stopping = false

    /// Where a tensor's values come from in the split.
    private enum Source {
        case input(String)
        case targets(Int)
        case mask(Int)
    }

    /// `inputs` carry the augmentations; `seed` is the run's, from which each batch's
    /// augmentation generator is derived.
    init(model: CompiledModel, split: EncodedSplit, inputs: [ResolvedInput], seed: Int) {
        self.split = split
        self.seed = seed
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
        augmenters = Self.makeAugmenters(model: model, inputs: inputs, sources: sources, staging: staging)
        let thread = Thread { [self] in self.loop() }
        thread.start()
    }

    deinit {
        for buffer in staging { buffer.deallocate() }
    }

    /// Starts preparing `rows`, batch `step` of `epoch`, in the background.
    func start(_ rows: ArraySlice<Int>, epoch: Int, step: Int) {
        self.rows = rows
        position = (epoch, step)
        work.signal()
    }

    /// The generator of a batch's augmentations: a function of the run's seed and the batch's
    /// place in the run only, so a resumed run draws what an uninterrupted one would.
    static func augmentationRandom(seed: Int, epoch: Int, step: Int) -> Random {
        Random(seed: (UInt64(bitPattern: Int64(seed)) &+ 0xA0C_3E47) ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(step) &* 0xC2B2_AE3D_27D4_EB4F))
    }

    private static func makeAugmenters(model: CompiledModel, inputs: [ResolvedInput], sources: [Source],
                                       staging: [UnsafeMutablePointer<Float>]) -> [BatchAugmenter] {
        var inputBuffer: [String: UnsafeMutablePointer<Float>] = [:]
        var targets: [Int: UnsafeMutablePointer<Float>] = [:], masks: [Int: UnsafeMutablePointer<Float>] = [:]
        for (source, buffer) in zip(sources, staging) {
            switch source {
            case .input(let name): inputBuffer[name] = buffer
            case .targets(let t): targets[t] = buffer
            case .mask(let t): masks[t] = buffer
            }
        }
        let taskIndex = Dictionary(model.tasks.enumerated().map { ($1.task.path, $0) }, uniquingKeysWith: { a, _ in a })
        func slots(_ paths: [[TaskPath]]) -> [[BatchAugmenter.Slot]] {
            paths.compactMap { coordinate in
                let slots = coordinate.compactMap { path in
                    taskIndex[path].flatMap { t in
                        targets[t].flatMap { target in masks[t].map { BatchAugmenter.Slot(targets: target, mask: $0) } }
                    }
                }
                return slots.count == coordinate.count ? slots : nil
            }
        }
        return inputs.compactMap { input in
            guard let augmentation = input.augmentation, let images = inputBuffer[input.input.name],
                  case let .image(height, width, channels, _) = input.input.kind
            else { return nil }
            return BatchAugmenter(settings: augmentation.settings,
                                  size: ImageSize(height: height, width: width, channels: channels), images: images,
                                  boxes: slots(augmentation.boxes), points: slots(augmentation.points))
        }
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
            if !augmenters.isEmpty {
                var random = Self.augmentationRandom(seed: seed, epoch: position.epoch, step: position.step)
                for augmenter in augmenters { augmenter.apply(batch: rows.count, random: &random) }
            }
            ready.signal()
        }
    }
}
