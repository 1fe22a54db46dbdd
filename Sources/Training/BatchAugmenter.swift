import Engine
import FlowSpec

/// One image input's `augment:` applied to a gathered training batch, in place: each sample's
/// transforms drawn from the batch's generator, its pixels transformed, and its coordinate
/// labels moved with them. A box or point the crop leaves out, or one only partly labelled when
/// the sample moves, has its tasks masked on that row: their labels count as missing there.
/// Scratch space is allocated once, so a batch allocates nothing.
final class BatchAugmenter {
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
    private let scratch: UnsafeMutablePointer<Float>
    private let kernel: UnsafeMutablePointer<Float>

    /// `images` holds a batch of `size` images; the slots hold the coordinate tasks' values.
    init(settings: Augmentation, size: ImageSize, images: UnsafeMutablePointer<Float>, boxes: [[Slot]], points: [[Slot]]) {
        self.settings = settings
        self.size = size
        self.images = images
        self.boxes = boxes
        self.points = points
        scratch = .allocate(capacity: size.count)
        kernel = .allocate(capacity: 2 * SampleAugmentation.maximumBlurRadius + 1)
    }

    deinit {
        scratch.deallocate()
        kernel.deallocate()
    }

    /// Augments the first `batch` samples, drawing from `random` sample by sample.
    func apply(batch: Int, random: inout Random) {
        for b in 0..<batch {
            let sample = SampleAugmentation(drawing: settings, from: &random)
            sample.apply(to: images + b * size.count, size, scratch: scratch, kernel: kernel)
            guard !sample.geometry.isIdentity else { continue }
            for box in boxes where counts(box, row: b) {
                let (x, y, w, h) = (box[0], box[1], box[2], box[3])
                if let moved = sample.geometry.box(Box(x: x.targets[b], y: y.targets[b], width: w.targets[b], height: h.targets[b])) {
                    (x.targets[b], y.targets[b], w.targets[b], h.targets[b]) = (moved.x, moved.y, moved.width, moved.height)
                } else {
                    for slot in box { slot.mask[b] = 0 }
                }
            }
            for point in points where counts(point, row: b) {
                let (x, y) = (point[0], point[1])
                if let moved = sample.geometry.point(Point(x: x.targets[b], y: y.targets[b])) {
                    (x.targets[b], y.targets[b]) = (moved.x, moved.y)
                } else {
                    for slot in point { slot.mask[b] = 0 }
                }
            }
        }
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
