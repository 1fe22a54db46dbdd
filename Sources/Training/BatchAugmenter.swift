import Engine
import FlowSpec

/// One image input's `augment:` applied to a gathered training batch, in place: each sample's
/// transforms drawn from the batch's generator, its pixels transformed, and its coordinate
/// labels moved with them. A box or point the crop leaves out, or one only partly labelled when
/// the sample moves, has its tasks masked on that row: their labels count as missing there.
///
/// The draws are made in sample order on the calling thread, so a batch's transforms depend on
/// its generator alone; the pixels are then transformed on the pool's threads, each with its
/// own scratch image. Scratch space is allocated once, so a batch allocates nothing.
final class BatchAugmenter: ParallelLoop {
    /// Where one coordinate task's target and mask of batch row b are: `targets[b]`, `mask[b]`.
    struct Slot {
        let targets: UnsafeMutablePointer<Float>
        let mask: UnsafeMutablePointer<Float>
    }

    let settings: Augmentation
    let size: ImageSize
    private let images: UnsafeMutablePointer<Float>
    /// Each box's four slots (x, y, width, height) and each point's two (x, y).
    private let boxes: [[Slot]]
    private let points: [[Slot]]
    private let pool: ThreadPool
    /// One image and one blur kernel per thread of the pool.
    private let scratch: UnsafeMutablePointer<Float>
    private let kernels: UnsafeMutablePointer<Float>
    private static let kernelSize = 2 * SampleAugmentation.maximumBlurRadius + 1
    /// The batch's draws, one per sample (capacity kept from batch to batch).
    private var draws: [SampleAugmentation] = []

    /// `images` holds a batch of `size` images; the slots hold the coordinate tasks' values.
    init(settings: Augmentation, size: ImageSize, images: UnsafeMutablePointer<Float>, boxes: [[Slot]], points: [[Slot]],
         pool: ThreadPool) {
        self.settings = settings
        self.size = size
        self.images = images
        self.boxes = boxes
        self.points = points
        self.pool = pool
        scratch = .allocate(capacity: pool.threads * size.count)
        kernels = .allocate(capacity: pool.threads * Self.kernelSize)
    }

    deinit {
        scratch.deallocate()
        kernels.deallocate()
    }

    /// Augments the first `batch` samples, drawing from `random` sample by sample.
    func apply(batch: Int, random: inout Random) {
        draws.removeAll(keepingCapacity: true)
        for _ in 0..<batch { draws.append(SampleAugmentation(drawing: settings, from: &random)) }
        pool.parallelFor(batch, costPerItem: 16 * size.count, self)
        for b in 0..<batch where !draws[b].geometry.isIdentity {
            let geometry = draws[b].geometry
            for box in boxes where counts(box, row: b) {
                let (x, y, w, h) = (box[0], box[1], box[2], box[3])
                if let moved = geometry.box(Box(x: x.targets[b], y: y.targets[b], width: w.targets[b], height: h.targets[b])) {
                    (x.targets[b], y.targets[b], w.targets[b], h.targets[b]) = (moved.x, moved.y, moved.width, moved.height)
                } else {
                    for slot in box { slot.mask[b] = 0 }
                }
            }
            for point in points where counts(point, row: b) {
                let (x, y) = (point[0], point[1])
                if let moved = geometry.point(Point(x: x.targets[b], y: y.targets[b])) {
                    (x.targets[b], y.targets[b]) = (moved.x, moved.y)
                } else {
                    for slot in point { slot.mask[b] = 0 }
                }
            }
        }
    }

    /// The pixels of samples `samples`, each by its own draw.
    func run(_ samples: Range<Int>, part: OnlyPart, worker: Int) {
        let scratch = self.scratch + worker * size.count, kernel = kernels + worker * Self.kernelSize
        for b in samples { draws[b].apply(to: images + b * size.count, size, scratch: scratch, kernel: kernel) }
    }

    /// Whether a coordinate of row `b` is to be moved. Rows where none of its tasks counts
    /// (label missing or precondition false) are left alone; where only some count, those
    /// cannot be moved without the others, so all are masked.
    private func counts(_ slots: [Slot], row b: Int) -> Bool {
        var counted = 0
        for slot in slots where slot.mask[b] > 0 { counted += 1 }
        if counted > 0, counted < slots.count {
            for slot in slots { slot.mask[b] = 0 }
        }
        return counted == slots.count
    }
}
