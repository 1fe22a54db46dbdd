import AllocationCounter
import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Training batches with `augment:`: transformed as the loader puts them in the model, drawn from a
/// generator that depends on the run's seed and the batch's place in the run only; validation
/// passes see the data as it is.
struct AugmentedBatchTests {
    static func flow(augment: String) throws -> ResolvedFlow {
        try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv}
            inputs:
              image: {type: image, shape: [4, 4, 1]\(augment)}
            trunk:
              body: {from: image, layers: [flatten, dense: 4, relu]}
            flow:
              present: {type: binary}
              x: {type: bounded_regression, scale: 4, when: present}
              y: {type: bounded_regression, scale: 4, when: present}
              w: {type: bounded_regression, scale: 4, when: present}
              h: {type: bounded_regression, scale: 4, when: present}
            """.utf8), file: "t.yaml")
    }

    static let augmented = ", augment: {flip_horizontal: true, crop: 0.6, brightness: 0.2, boxes: [[x, y, w, h]]}"

    /// 16 rows of 4×4 images, every one with a box (1, 1, 2, 1) in pixels, in the flow's task order.
    static func split(_ flow: ResolvedFlow) -> EncodedSplit {
        let rows = 16
        let pixels = (0..<(rows * 16)).map { UInt8(($0 * 37) % 256) }
        let box: [String: Float] = ["present": 1, "x": 0.25, "y": 0.25, "w": 0.5, "h": 0.25]
        let targets = flow.tasks.map { task in [Float](repeating: box[task.path.name]!, count: rows) }
        let ones = flow.tasks.map { _ in [Float](repeating: 1, count: rows) }
        let counts = flow.tasks.map { _ in [Bool](repeating: true, count: rows) }
        return EncodedSplit(name: "train", rows: rows, file: "train.csv", sourceRows: Array(0..<rows),
                            inputs: ["image": .bytes(pixels, sampleSize: 16)], targets: targets, masks: ones,
                            counts: counts, present: counts)
    }

    /// The images and targets of one prepared batch.
    struct Prepared: Equatable {
        var images: [Float]
        var targets: [[Float]]
    }

    func prepare(_ model: CompiledModel, _ loader: BatchLoader, rows: ArraySlice<Int>, epoch: Int, step: Int) -> Prepared {
        loader.load(rows, epoch: epoch, step: step)
        let count = rows.count
        return Prepared(images: Array(model.inputs["image"]!.values(batch: count)),
                        targets: model.tasks.map { Array($0.targets.values(batch: count)) })
    }

    @Test func theSameSeedAndPlaceGiveTheSameBatchWhateverCameBefore() throws {
        let flow = try Self.flow(augment: Self.augmented)
        let model = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow), maxBatch: 8, seed: 1)
        let split = Self.split(flow)
        let rows = Array(0..<8)[...]
        let first = BatchLoader(model: model, split: split, inputs: flow.inputs, seed: 1)
        let batch = prepare(model, first, rows: rows, epoch: 1, step: 0)
        _ = prepare(model, first, rows: rows, epoch: 1, step: 1)
        let later = prepare(model, first, rows: rows, epoch: 3, step: 2)

        // A fresh loader, as a resumed run has, prepares the same batches.
        let second = BatchLoader(model: model, split: split, inputs: flow.inputs, seed: 1)
        #expect(prepare(model, second, rows: rows, epoch: 3, step: 2) == later)
        #expect(prepare(model, second, rows: rows, epoch: 1, step: 0) == batch)
        // Another epoch, step or seed draws other transforms.
        #expect(prepare(model, second, rows: rows, epoch: 2, step: 0) != batch)
        #expect(prepare(model, second, rows: rows, epoch: 1, step: 1) != batch)
        let other = BatchLoader(model: model, split: split, inputs: flow.inputs, seed: 2)
        #expect(prepare(model, other, rows: rows, epoch: 1, step: 0) != batch)

        // The augmented batch is not the plain one, and the box moved with the image.
        Batcher(model: model).fill(split, rows: rows)
        let plain = Prepared(images: Array(model.inputs["image"]!.values(batch: 8)),
                             targets: model.tasks.map { Array($0.targets.values(batch: 8)) })
        #expect(batch.images != plain.images)
        let x = flow.tasks.firstIndex { $0.path.name == "x" }!
        #expect(batch.targets[x] != plain.targets[x])
    }

    @Test func withoutAugmentTheLoaderGathersThePlainBatch() throws {
        let flow = try Self.flow(augment: "")
        let model = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow), maxBatch: 8, seed: 1)
        let split = Self.split(flow)
        let loader = BatchLoader(model: model, split: split, inputs: flow.inputs, seed: 1)
        let prepared = prepare(model, loader, rows: Array(4..<12)[...], epoch: 1, step: 0)
        Batcher(model: model).fill(split, rows: Array(4..<12)[...])
        #expect(prepared.images == Array(model.inputs["image"]!.values(batch: 8)))
    }

    /// Every transform on, boxes moved and masked: augmenting a batch allocates nothing.
    @Test func augmentingABatchAllocatesNothing() {
        let batch = CoordinateTransformTests.Batch(rows: 32, box: Box(x: 0.7, y: 0.7, width: 0.25, height: 0.25))
        var settings = Augmentation(location: FlowSpec.SourceLocation(file: "f", line: 1, column: 1))
        (settings.flipHorizontal, settings.flipVertical, settings.rot90) = (true, true, true)
        settings.crop = 0.5...1
        settings.blur = Blur(sigma: 0.5...2, probability: 1)
        (settings.brightness, settings.contrast) = (0.2, 0.2)
        let augmenter = batch.augmenter(settings)
        var random = Random(seed: 1)
        augmenter.apply(batch: batch.rows, random: &random)
        let before = allocation_count_this_thread()
        for _ in 0..<10 { augmenter.apply(batch: batch.rows, random: &random) }
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 10 batches")
        let probe = [Int](repeating: 1, count: 100)  // the counter does count
        #expect(allocation_count_this_thread() > after && probe.count == 100)
    }

    /// The draws are made in sample order and each thread transforms its samples with its own
    /// scratch: two threads give the batch one gives, to the bit.
    @Test func augmentingOnTwoThreadsGivesWhatOneGives() {
        var settings = Augmentation(location: FlowSpec.SourceLocation(file: "f", line: 1, column: 1))
        (settings.flipHorizontal, settings.flipVertical, settings.rot90) = (true, true, true)
        settings.crop = 0.5...1
        settings.blur = Blur(sigma: 0.5...2, probability: 0.5)
        (settings.brightness, settings.contrast) = (0.2, 0.2)
        func augmented(threads: Int) -> (images: [Float], boxes: [Box], masks: [[Float]]) {
            // Enough pixels for the pool to split the batch (it keeps small loops on one thread).
            let batch = CoordinateTransformTests.Batch(rows: 256, box: Box(x: 0.6, y: 0.6, width: 0.3, height: 0.3))
            for i in 0..<(batch.rows * 16) { batch.images[i] = Float((i * 37) % 101) / 100 }
            let augmenter = batch.augmenter(settings, pool: ThreadPool(threads: threads))
            var random = Random(seed: 7)
            augmenter.apply(batch: batch.rows, random: &random)
            return (Array(UnsafeBufferPointer(start: batch.images, count: batch.rows * 16)),
                    (0..<batch.rows).map(batch.box), (0..<batch.rows).map(batch.mask))
        }
        let one = augmented(threads: 1), two = augmented(threads: 2)
        #expect(one.images == two.images)
        #expect(one.boxes == two.boxes)
        #expect(one.masks == two.masks)
        #expect(one.masks.contains { $0 == [0, 0, 0, 0] }, "some crop loses the box, so the masking is exercised")
    }

    @Test func validationPassesAreNotAugmented() throws {
        let augmented = try Self.flow(augment: Self.augmented), plain = try Self.flow(augment: "")
        let split = Self.split(plain)
        func evaluate(_ flow: ResolvedFlow) -> [Double] {
            let model = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow), maxBatch: 8, seed: 1)
            return SplitMetrics.measure(model, split, statistics: DataStatistics(), batchSize: 8).losses.map(\.loss)
        }
        let losses = evaluate(augmented)
        #expect(losses == evaluate(plain))
        #expect(losses.allSatisfy { $0 > 0 })
    }
}
