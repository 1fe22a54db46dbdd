import Engine
import FlowSpec

/// Puts a training batch into the model's tensors right before its step: the rows gathered
/// (from `RowRecords`; image bytes turned into floats) and, for an image input with `augment:`,
/// every sample transformed, both on the pool's threads. Nothing is allocated per batch.
///
/// Loading takes the pool between steps rather than a thread of its own beside them: during a
/// step the pool already keeps every core busy, and a third thread that takes one of them
/// stalls the step's parallel loops on the thread it displaced (the orders flow's steps took
/// 1.3 to 2 times as long beside a loading thread; docs/performance.md).
final class BatchLoader: ParallelLoop {
    /// Where the tensors a batch fills from the records are, in the records' field order (their
    /// pointers, not the tensors: the loop over rows then retains nothing).
    private let destinations: [(data: UnsafeMutablePointer<Float>, sampleSize: Int)]
    private let records: RowRecords
    /// Image inputs, gathered from the split's bytes.
    private let images: [(tensor: Tensor, bytes: EncodedInput)]
    /// One per image input with `augment:`, working in the model's tensors.
    private let augmenters: [BatchAugmenter]
    private let pool: ThreadPool
    private let seed: Int
    /// The process's rank in a data-parallel training (0 alone): each draws its own augmentations.
    private let rank: Int
    /// Values written per row, plus a few for each tensor's loop: what `load` tells the pool.
    private let costPerRow: Int
    /// The rows of the batch under way, and its epoch, for `run`.
    private var rows: ArraySlice<Int> = []
    private var epoch = 0
    /// The masked language models' masking, drawn per row from the run's seed and the epoch.
    private let maskings: [TokenMasking]
    /// The index in the whole split of this process's first row: masking draws by the row's
    /// index in the whole split, so that any number of processes mask alike.
    private let firstRow: Int
    /// Per worker, what `RowRecords.touch` returned: stored so that its reads are made.
    private let touched: UnsafeMutablePointer<Float>

    /// `inputs` carry the augmentations; `seed` is the run's, from which (with `rank`) each
    /// batch's augmentation generator is derived.
    init(model: CompiledModel, split: EncodedSplit, inputs: [ResolvedInput], seed: Int, rank: Int = 0) {
        self.seed = seed
        self.rank = rank
        pool = model.plan.pool
        var tensors: [Tensor] = [], columns: [EncodedInput] = [], images: [(Tensor, EncodedInput)] = []
        for (name, tensor) in model.inputs.sorted(by: { $0.key < $1.key }) {
            guard let input = split.inputs[name] else { continue }
            if case .bytes = input { images.append((tensor, input)) } else { (tensors, columns) = (tensors + [tensor], columns + [input]) }
        }
        for (t, task) in model.tasks.enumerated() {
            tensors += [task.targets, task.mask]
            columns += [.floats(split.targets[t], sampleSize: task.targets.sampleSize),
                        .floats(split.masks[t], sampleSize: task.mask.sampleSize)]
        }
        destinations = tensors.map { ($0.data, $0.sampleSize) }
        self.images = images
        records = RowRecords(columns, rows: split.rows)
        costPerRow = (tensors + images.map(\.0)).reduce(0) { $0 + $1.sampleSize + 16 }
        augmenters = Self.makeAugmenters(model: model, inputs: inputs)
        maskings = model.tokenMasking
        firstRow = split.firstRow
        touched = .allocate(capacity: pool.threads)
        touched.initialize(repeating: 0, count: pool.threads)
    }

    deinit { touched.deallocate() }

    /// Loads `rows`, batch `step` of `epoch`.
    func load(_ rows: ArraySlice<Int>, epoch: Int, step: Int) {
        self.rows = rows
        self.epoch = epoch
        pool.parallelFor(rows.count, costPerItem: costPerRow, self)
        guard !augmenters.isEmpty else { return }
        var random = Self.augmentationRandom(seed: seed, epoch: epoch, step: step, rank: rank)
        for augmenter in augmenters { augmenter.apply(batch: rows.count, random: &random) }
    }

    /// Batch rows `items` of the batch under way.
    func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        let rows = self.rows[(self.rows.startIndex + items.lowerBound)..<(self.rows.startIndex + items.upperBound)]
        touched[worker] = records.touch(rows)
        for (b, row) in zip(items, rows) {
            for (index, tensor) in destinations.enumerated() {
                records.gather(field: index, row: row, into: tensor.data + b * tensor.sampleSize)
            }
        }
        for (tensor, bytes) in images {
            let size = tensor.sampleSize
            Batcher.gather(bytes, rows: rows, size: size, into: tensor.data + items.lowerBound * size)
        }
        for masking in maskings {
            for (b, row) in zip(items, rows) { masking.apply(sample: b, row: firstRow + row, seed: seed, epoch: epoch) }
        }
    }

    /// The generator of a batch's augmentations: a function of the run's seed, the batch's
    /// place in the run and the process's rank only (rank 0 draws as a process alone), so a
    /// resumed run draws what an uninterrupted one would, and processes sharing a batch draw
    /// apart.
    static func augmentationRandom(seed: Int, epoch: Int, step: Int, rank: Int = 0) -> Random {
        Random(seed: (UInt64(bitPattern: Int64(seed)) &+ 0xA0C_3E47) ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            ^ (UInt64(step) &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(rank) &* 0xD6E8_FEB8_6659_FD93))
    }

    private static func makeAugmenters(model: CompiledModel, inputs: [ResolvedInput]) -> [BatchAugmenter] {
        let taskIndex = Dictionary(model.tasks.enumerated().map { ($1.task.path, $0) }, uniquingKeysWith: { a, _ in a })
        // Each coordinate's slots, when every one of its tasks is in the model.
        func slots(_ paths: [[TaskPath]]) -> [[BatchAugmenter.Slot]] {
            paths.compactMap { coordinate in
                let slots = coordinate.compactMap { path in
                    taskIndex[path].map { t in BatchAugmenter.Slot(targets: model.tasks[t].targets.data, mask: model.tasks[t].mask.data) }
                }
                return slots.count == coordinate.count ? slots : nil
            }
        }
        return inputs.compactMap { input in
            guard let augmentation = input.augmentation, let images = model.inputs[input.input.name],
                  case let .image(height, width, channels, _) = input.input.kind
            else { return nil }
            return BatchAugmenter(settings: augmentation.settings,
                                  size: ImageSize(height: height, width: width, channels: channels), images: images.data,
                                  boxes: slots(augmentation.boxes), points: slots(augmentation.points), pool: model.plan.pool)
        }
    }
}
