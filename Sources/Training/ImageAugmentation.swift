import Engine
import FlowSpec
import Foundation

/// The size of one image in a batch: `height × width × channels` floats, row-major, channels last.
struct ImageSize: Equatable {
    let height: Int
    let width: Int
    let channels: Int

    var count: Int { height * width * channels }
    /// Brightness and contrast change colour, not an RGBA image's alpha.
    var colourChannels: Int { min(channels, 3) }
}

/// What `augment:` does to one training image, drawn from the batch's generator, and the pixel
/// transforms themselves: plain loops over floats in [0, 1], in place, using scratch space the
/// caller allocated once. Geometric transforms run first (crop, flips, rotation, in that order,
/// which `SampleGeometry` follows for coordinates), then blur, brightness and contrast.
struct SampleAugmentation {
    var geometry = SampleGeometry()
    /// The blur's σ in pixels, nil when this sample is not blurred.
    var blurSigma: Float?
    var brightness: Float = 0
    var contrast: Float = 1

    /// The largest blur radius, ⌈3σ⌉ for σ = 10, the largest σ a flow accepts.
    static let maximumBlurRadius = 30

    init() {}

    /// One sample's transforms. Only enabled transforms draw, always in the same order, so the
    /// same generator state gives the same transforms.
    init(drawing settings: Augmentation, from random: inout Random) {
        if let crop = settings.crop {
            let scale = Float(crop.lowerBound) + Float(crop.upperBound - crop.lowerBound) * random.uniform()
            geometry.crop = Crop(x: (1 - scale) * random.uniform(), y: (1 - scale) * random.uniform(), scale: scale)
        }
        if settings.flipHorizontal { geometry.flipHorizontal = random.uniform() < 0.5 }
        if settings.flipVertical { geometry.flipVertical = random.uniform() < 0.5 }
        if settings.rot90 { geometry.quarterTurns = Int(random.next() % 4) }
        if let blur = settings.blur, random.uniform() < Float(blur.probability) {
            blurSigma = Float(blur.sigma.lowerBound) + Float(blur.sigma.upperBound - blur.sigma.lowerBound) * random.uniform()
        }
        if settings.brightness > 0 { brightness = Float(settings.brightness) * (2 * random.uniform() - 1) }
        if settings.contrast > 0 { contrast = 1 + Float(settings.contrast) * (2 * random.uniform() - 1) }
    }

    /// Transforms `image` in place. `scratch` holds one image; `kernel` holds
    /// 2 × `maximumBlurRadius` + 1 floats.
    func apply(to image: UnsafeMutablePointer<Float>, _ size: ImageSize, scratch: UnsafeMutablePointer<Float>,
               kernel: UnsafeMutablePointer<Float>) {
        if let crop = geometry.crop { ImageAugmentation.cropAndZoom(image, size, crop, scratch: scratch) }
        if geometry.flipHorizontal { ImageAugmentation.flipHorizontal(image, size) }
        if geometry.flipVertical { ImageAugmentation.flipVertical(image, size) }
        for _ in 0..<geometry.quarterTurns { ImageAugmentation.rotate90(image, size, scratch: scratch) }
        if let sigma = blurSigma { ImageAugmentation.blur(image, size, sigma: sigma, kernel: kernel, scratch: scratch) }
        if brightness != 0 { ImageAugmentation.brighten(image, size, by: brightness) }
        if contrast != 1 { ImageAugmentation.scaleContrast(image, size, by: contrast) }
    }
}

/// The pixel transforms, each on one image in place.
enum ImageAugmentation {
    /// Column x becomes column width − 1 − x.
    static func flipHorizontal(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize) {
        let c = size.channels
        for y in 0..<size.height {
            let row = image + y * size.width * c
            for x in 0..<size.width / 2 {
                let left = row + x * c, right = row + (size.width - 1 - x) * c
                for k in 0..<c { (left[k], right[k]) = (right[k], left[k]) }
            }
        }
    }

    /// Row y becomes row height − 1 − y.
    static func flipVertical(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize) {
        let rowLength = size.width * size.channels
        for y in 0..<size.height / 2 {
            let top = image + y * rowLength, bottom = image + (size.height - 1 - y) * rowLength
            for i in 0..<rowLength { (top[i], bottom[i]) = (bottom[i], top[i]) }
        }
    }

    /// A quarter turn counter-clockwise of a square image: output (row i, column j) is input
    /// (row j, column n − 1 − i), so the top-right corner comes to the top left.
    static func rotate90(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize, scratch: UnsafeMutablePointer<Float>) {
        let n = size.width, c = size.channels
        for i in 0..<n {
            for j in 0..<n {
                let from = image + (j * n + (n - 1 - i)) * c, to = scratch + (i * n + j) * c
                for k in 0..<c { to[k] = from[k] }
            }
        }
        image.update(from: scratch, count: size.count)
    }

    /// The square `crop` (fractions of the width and height) zoomed back to the full size with
    /// bilinear interpolation: output pixel j samples the input at crop.x·width + scale·(j + ½) − ½
    /// (pixel centres), clamped to the image's edge; the same along rows.
    static func cropAndZoom(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize, _ crop: Crop,
                            scratch: UnsafeMutablePointer<Float>) {
        let c = size.channels
        for i in 0..<size.height {
            let (y0, y1, fy) = samplePosition(i, origin: crop.y, scale: crop.scale, extent: size.height)
            for j in 0..<size.width {
                let (x0, x1, fx) = samplePosition(j, origin: crop.x, scale: crop.scale, extent: size.width)
                let a = image + (y0 * size.width + x0) * c, b = image + (y0 * size.width + x1) * c
                let d = image + (y1 * size.width + x0) * c, e = image + (y1 * size.width + x1) * c
                let to = scratch + (i * size.width + j) * c
                for k in 0..<c {
                    to[k] = (1 - fy) * ((1 - fx) * a[k] + fx * b[k]) + fy * ((1 - fx) * d[k] + fx * e[k])
                }
            }
        }
        image.update(from: scratch, count: size.count)
    }

    /// The two input pixels output pixel `index` lies between, and the weight of the second.
    private static func samplePosition(_ index: Int, origin: Float, scale: Float, extent: Int) -> (Int, Int, Float) {
        let at = min(max(origin * Float(extent) + scale * (Float(index) + 0.5) - 0.5, 0), Float(extent - 1))
        let low = Int(at.rounded(.down))
        return (low, min(low + 1, extent - 1), at - Float(low))
    }

    /// Gaussian blur, separable: weights e^(−d²/2σ²) for |d| ≤ ⌈3σ⌉, normalised to sum 1, along
    /// rows into `scratch`, then along columns back; positions past the edge take the edge pixel.
    static func blur(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize, sigma: Float,
                     kernel: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let radius = min(Int((3 * sigma).rounded(.up)), SampleAugmentation.maximumBlurRadius)
        var total: Float = 0
        for d in -radius...radius {
            kernel[d + radius] = exp(-Float(d * d) / (2 * sigma * sigma))
            total += kernel[d + radius]
        }
        for d in -radius...radius { kernel[d + radius] /= total }
        let c = size.channels, w = size.width, h = size.height
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    var sum: Float = 0
                    for d in -radius...radius { sum += kernel[d + radius] * image[(y * w + min(max(x + d, 0), w - 1)) * c + k] }
                    scratch[(y * w + x) * c + k] = sum
                }
            }
        }
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c {
                    var sum: Float = 0
                    for d in -radius...radius { sum += kernel[d + radius] * scratch[(min(max(y + d, 0), h - 1) * w + x) * c + k] }
                    image[(y * w + x) * c + k] = sum
                }
            }
        }
    }

    /// Adds `delta` to every colour value, clamped to [0, 1].
    static func brighten(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize, by delta: Float) {
        for p in 0..<(size.height * size.width) {
            let pixel = image + p * size.channels
            for k in 0..<size.colourChannels { pixel[k] = min(max(pixel[k] + delta, 0), 1) }
        }
    }

    /// Moves every colour value away from (factor > 1) or towards (factor < 1) the mean of the
    /// image's colour values: m + factor·(v − m), clamped to [0, 1].
    static func scaleContrast(_ image: UnsafeMutablePointer<Float>, _ size: ImageSize, by factor: Float) {
        let pixels = size.height * size.width
        var sum: Float = 0
        for p in 0..<pixels {
            for k in 0..<size.colourChannels { sum += image[p * size.channels + k] }
        }
        let mean = sum / Float(pixels * size.colourChannels)
        for p in 0..<pixels {
            let pixel = image + p * size.channels
            for k in 0..<size.colourChannels { pixel[k] = min(max(mean + factor * (pixel[k] - mean), 0), 1) }
        }
    }
}
