import Engine
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Box and point labels follow the geometric transforms exactly, agree with what the pixels do,
/// and are masked where the crop leaves them out.
struct CoordinateTransformTests {
    func expectClose(_ a: Box?, _ b: Box, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        guard let a else {
            Issue.record("the box was dropped", sourceLocation: sourceLocation)
            return
        }
        let close = [a.x - b.x, a.y - b.y, a.width - b.width, a.height - b.height].allSatisfy { abs($0) < 1e-6 }
        #expect(close, "\(a) != \(b)", sourceLocation: sourceLocation)
    }

    @Test func boxesFollowEachTransform() {
        let box = Box(x: 0.1, y: 0.2, width: 0.3, height: 0.4)
        expectClose(SampleGeometry(flipHorizontal: true).box(box), Box(x: 0.6, y: 0.2, width: 0.3, height: 0.4))
        expectClose(SampleGeometry(flipVertical: true).box(box), Box(x: 0.1, y: 0.4, width: 0.3, height: 0.4))
        expectClose(SampleGeometry(quarterTurns: 1).box(box), Box(x: 0.2, y: 0.6, width: 0.4, height: 0.3))
        expectClose(SampleGeometry(quarterTurns: 2).box(box), Box(x: 0.6, y: 0.4, width: 0.3, height: 0.4))
        // Inside the crop: shifted and scaled by 1 / 0.5.
        let crop = Crop(x: 0.25, y: 0, scale: 0.5)
        expectClose(SampleGeometry(crop: crop).box(Box(x: 0.3, y: 0.1, width: 0.1, height: 0.2)),
                    Box(x: 0.1, y: 0.2, width: 0.2, height: 0.4))
        // Across the crop's left edge: clipped to it.
        expectClose(SampleGeometry(crop: crop).box(Box(x: 0.1, y: 0.1, width: 0.3, height: 0.2)),
                    Box(x: 0, y: 0.2, width: 0.3, height: 0.4))
        // Crop first, then flip: the order the pixels are transformed in.
        expectClose(SampleGeometry(crop: crop, flipHorizontal: true).box(Box(x: 0.3, y: 0.1, width: 0.1, height: 0.2)),
                    Box(x: 0.7, y: 0.2, width: 0.2, height: 0.4))
        // Wholly outside: no box left.
        #expect(SampleGeometry(crop: Crop(x: 0, y: 0, scale: 0.5)).box(Box(x: 0.8, y: 0.8, width: 0.1, height: 0.1)) == nil)
    }

    @Test func pointsFollowEachTransform() {
        func close(_ a: Point?, _ b: Point) -> Bool { a.map { abs($0.x - b.x) < 1e-6 && abs($0.y - b.y) < 1e-6 } ?? false }
        let point = Point(x: 0.2, y: 0.7)
        #expect(close(SampleGeometry(flipHorizontal: true).point(point), Point(x: 0.8, y: 0.7)))
        #expect(close(SampleGeometry(flipVertical: true).point(point), Point(x: 0.2, y: 0.3)))
        #expect(close(SampleGeometry(quarterTurns: 1).point(point), Point(x: 0.7, y: 0.8)))
        #expect(close(SampleGeometry(crop: Crop(x: 0, y: 0.5, scale: 0.5)).point(point), Point(x: 0.4, y: 0.4)))
        #expect(SampleGeometry(crop: Crop(x: 0.5, y: 0.5, scale: 0.5)).point(point) == nil)
    }

    /// A box drawn into an image, transformed as pixels, is where the transformed label says.
    @Test(arguments: [SampleGeometry(flipHorizontal: true), SampleGeometry(flipVertical: true),
                      SampleGeometry(quarterTurns: 1), SampleGeometry(quarterTurns: 3),
                      SampleGeometry(flipHorizontal: true, flipVertical: true, quarterTurns: 1)])
    func labelsAgreeWithPixels(_ geometry: SampleGeometry) {
        let n = 8, size = ImageSize(height: n, width: n, channels: 1)
        let image = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        let kernel = UnsafeMutablePointer<Float>.allocate(capacity: 2 * SampleAugmentation.maximumBlurRadius + 1)
        defer { image.deallocate(); scratch.deallocate(); kernel.deallocate() }
        // Columns 1…3 and rows 2…6: the box (1, 2, 3, 5) / 8.
        for y in 0..<n { for x in 0..<n { image[y * n + x] = (1...3).contains(x) && (2...6).contains(y) ? 1 : 0 } }
        var sample = SampleAugmentation()
        sample.geometry = geometry
        sample.apply(to: image, size, scratch: scratch, kernel: kernel)
        let lit = (0..<(n * n)).filter { image[$0] == 1 }
        let xs = lit.map { $0 % n }, ys = lit.map { $0 / n }
        let drawn = Box(x: Float(xs.min()!) / 8, y: Float(ys.min()!) / 8,
                        width: Float(xs.max()! - xs.min()! + 1) / 8, height: Float(ys.max()! - ys.min()! + 1) / 8)
        expectClose(geometry.box(Box(x: 1 / 8, y: 2 / 8, width: 3 / 8, height: 5 / 8)), drawn)
    }

    /// Staging buffers for `rows` samples of a 4×4 gray image and one box.
    final class Batch {
        let rows: Int
        let images: UnsafeMutablePointer<Float>
        let targets: [UnsafeMutablePointer<Float>]
        let masks: [UnsafeMutablePointer<Float>]

        init(rows: Int, box: Box) {
            self.rows = rows
            images = .allocate(capacity: rows * 16)
            images.initialize(repeating: 0.5, count: rows * 16)
            targets = (0..<4).map { _ in .allocate(capacity: rows) }
            masks = (0..<4).map { _ in .allocate(capacity: rows) }
            for (t, value) in [box.x, box.y, box.width, box.height].enumerated() {
                targets[t].initialize(repeating: value, count: rows)
                masks[t].initialize(repeating: 1, count: rows)
            }
        }

        deinit {
            images.deallocate()
            (targets + masks).forEach { $0.deallocate() }
        }

        func augmenter(_ settings: Augmentation, pool: ThreadPool = ThreadPool(threads: 1)) -> BatchAugmenter {
            BatchAugmenter(settings: settings, size: ImageSize(height: 4, width: 4, channels: 1), images: images,
                           boxes: [(0..<4).map { BatchAugmenter.Slot(targets: targets[$0], mask: masks[$0]) }], points: [],
                           pool: pool)
        }

        func box(_ row: Int) -> Box { Box(x: targets[0][row], y: targets[1][row], width: targets[2][row], height: targets[3][row]) }
        func mask(_ row: Int) -> [Float] { masks.map { $0[row] } }
    }

    @Test func aBoxTheCropLeavesOutIsMaskedOnThatRowAndOthersMove() {
        // A small box in the bottom-right corner; crops of half the side at random places keep
        // it on some rows and lose it on others.
        let original = Box(x: 0.9, y: 0.9, width: 0.05, height: 0.05)
        let batch = Batch(rows: 64, box: original)
        var settings = Augmentation(location: FlowSpec.SourceLocation(file: "f", line: 1, column: 1))
        settings.crop = 0.5...0.5
        var random = Random(seed: 3), replay = Random(seed: 3)
        batch.augmenter(settings).apply(batch: batch.rows, random: &random)
        var dropped = 0
        for row in 0..<batch.rows {
            let expected = SampleAugmentation(drawing: settings, from: &replay).geometry.box(original)
            if let expected {
                #expect(batch.mask(row) == [1, 1, 1, 1])
                expectClose(batch.box(row), expected)
            } else {
                #expect(batch.mask(row) == [0, 0, 0, 0])
                dropped += 1
            }
        }
        #expect(dropped > 0 && dropped < batch.rows, "\(dropped) of \(batch.rows) rows dropped")
    }

    @Test func rowsWithoutTheLabelAreLeftAloneAndPartialBoxesAreMasked() {
        let original = Box(x: 0.25, y: 0.25, width: 0.5, height: 0.5)
        let batch = Batch(rows: 3, box: original)
        for t in 0..<4 { batch.masks[t][1] = 0 }  // row 1: no box (missing, or precondition false)
        batch.masks[2][2] = 0  // row 2: the width is missing
        var settings = Augmentation(location: FlowSpec.SourceLocation(file: "f", line: 1, column: 1))
        settings.crop = 0.9...0.9  // the crop always moves the box, never loses it
        var random = Random(seed: 1)
        batch.augmenter(settings).apply(batch: 3, random: &random)
        #expect(batch.mask(0) == [1, 1, 1, 1] && batch.box(0) != original)
        #expect(batch.mask(1) == [0, 0, 0, 0] && batch.box(1) == original)
        #expect(batch.mask(2) == [0, 0, 0, 0])
    }
}
