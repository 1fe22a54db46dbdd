import Engine
import Foundation
import Testing
@testable import Training

/// Each pixel transform of `augment:` on tiny hand-made images, against values worked out by hand.
struct ImageAugmentationTests {
    /// Runs `transform` on a copy of `values` and returns the result.
    func transformed(_ values: [Float], _ transform: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        let image = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
        let kernel = UnsafeMutablePointer<Float>.allocate(capacity: 2 * SampleAugmentation.maximumBlurRadius + 1)
        defer { image.deallocate(); scratch.deallocate(); kernel.deallocate() }
        image.initialize(from: values, count: values.count)
        transform(image, scratch)
        return Array(UnsafeBufferPointer(start: image, count: values.count))
    }

    func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }, "\(a) != \(b)", sourceLocation: sourceLocation)
    }

    @Test func horizontalFlipMirrorsColumnsAndKeepsChannelsTogether() {
        // One row of three two-channel pixels.
        let size = ImageSize(height: 1, width: 3, channels: 2)
        let out = transformed([1, 2, 3, 4, 5, 6]) { image, _ in ImageAugmentation.flipHorizontal(image, size) }
        #expect(out == [5, 6, 3, 4, 1, 2])
    }

    @Test func verticalFlipMirrorsRows() {
        let size = ImageSize(height: 3, width: 2, channels: 1)
        let out = transformed([1, 2, 3, 4, 5, 6]) { image, _ in ImageAugmentation.flipVertical(image, size) }
        #expect(out == [5, 6, 3, 4, 1, 2])
    }

    @Test func quarterTurnIsCounterClockwise() {
        // 1 2 3        3 6 9
        // 4 5 6   →    2 5 8
        // 7 8 9        1 4 7
        let size = ImageSize(height: 3, width: 3, channels: 1)
        let out = transformed([1, 2, 3, 4, 5, 6, 7, 8, 9]) { image, scratch in
            ImageAugmentation.rotate90(image, size, scratch: scratch)
        }
        #expect(out == [3, 6, 9, 2, 5, 8, 1, 4, 7])
    }

    @Test func cropAndZoomSamplesBilinearlyAtPixelCentres() {
        // A 4×4 image whose value is 4·row + column: bilinear interpolation reproduces it exactly
        // at any position. The centre crop of half the side puts output pixel j at input
        // position 1 + 0.5·(j + 0.5) − 0.5 = 0.75 + 0.5·j, along rows and along columns.
        let size = ImageSize(height: 4, width: 4, channels: 1)
        let ramp = (0..<16).map { Float($0) }
        let centre = transformed(ramp) { image, scratch in
            ImageAugmentation.cropAndZoom(image, size, Crop(x: 0.25, y: 0.25, scale: 0.5), scratch: scratch)
        }
        let positions = (0..<4).map { 0.75 + 0.5 * Float($0) }
        let expected: [Float] = positions.flatMap { y in positions.map { x in 4 * y + x } }
        expectClose(centre, expected)
        // The top-left crop reaches before the first pixel centre (−0.25), which takes the edge value.
        let corner = transformed(ramp) { image, scratch in
            ImageAugmentation.cropAndZoom(image, size, Crop(x: 0, y: 0, scale: 0.5), scratch: scratch)
        }
        let clamped: [Float] = [0, 0.25, 0.75, 1.25]
        expectClose(corner, clamped.flatMap { y in clamped.map { x in 4 * y + x } })
    }

    @Test func blurIsAnEdgeClampedSeparableGaussian() {
        // σ = 0.5: radius ⌈1.5⌉ = 2, weights e^(−2d²) normalised. A 3×3 impulse in the centre
        // becomes g(|x − 1|)·g(|y − 1|); at the border the clamped taps land on the edge pixel,
        // which is 0 here, so the product form holds.
        let raw = (-2...2).map { d in exp(-2 * Float(d * d)) }
        let total = raw.reduce(0, +)
        let g = { (d: Int) in raw[d + 2] / total }
        let size = ImageSize(height: 3, width: 3, channels: 1)
        let kernel = UnsafeMutablePointer<Float>.allocate(capacity: 2 * SampleAugmentation.maximumBlurRadius + 1)
        defer { kernel.deallocate() }
        let impulse = transformed([0, 0, 0, 0, 1, 0, 0, 0, 0]) { image, scratch in
            ImageAugmentation.blur(image, size, sigma: 0.5, kernel: kernel, scratch: scratch)
        }
        expectClose(impulse, (0..<3).flatMap { y in (0..<3).map { x in g(abs(x - 1)) * g(abs(y - 1)) } })

        // σ = 1 on one row [1, 0, 0]: taps before the row clamp onto pixel 0, so pixel 0 sees it
        // at d = −3…0 (w0 + w1 + w2 + w3), pixel 1 at d = −3…−1, pixel 2 at d = −3 and −2.
        let w = (0...3).map { d in exp(-Float(d * d) / 2) }
        let z = w[0] + 2 * (w[1] + w[2] + w[3])
        let edge = transformed([1, 0, 0]) { image, scratch in
            ImageAugmentation.blur(image, ImageSize(height: 1, width: 3, channels: 1), sigma: 1, kernel: kernel, scratch: scratch)
        }
        expectClose(edge, [(w[0] + w[1] + w[2] + w[3]) / z, (w[1] + w[2] + w[3]) / z, (w[2] + w[3]) / z])
    }

    @Test func brightnessAddsToColourClampsAndLeavesAlphaAlone() {
        let size = ImageSize(height: 1, width: 2, channels: 4)
        let out = transformed([0.1, 0.5, 0.9, 0.5, 0.3, 0, 1, 0.25]) { image, _ in
            ImageAugmentation.brighten(image, size, by: 0.2)
        }
        expectClose(out, [0.3, 0.7, 1, 0.5, 0.5, 0.2, 1, 0.25])
    }

    @Test func contrastScalesAroundTheImageMeanAndClamps() {
        let size = ImageSize(height: 1, width: 4, channels: 1)
        let values: [Float] = [0.2, 0.4, 0.6, 0.8]  // mean 0.5
        expectClose(transformed(values) { image, _ in ImageAugmentation.scaleContrast(image, size, by: 1.5) },
                    [0.05, 0.35, 0.65, 0.95])
        expectClose(transformed(values) { image, _ in ImageAugmentation.scaleContrast(image, size, by: 3) },
                    [0, 0.2, 0.8, 1])
        expectClose(transformed(values) { image, _ in ImageAugmentation.scaleContrast(image, size, by: 0.5) },
                    [0.35, 0.45, 0.55, 0.65])
    }
}
