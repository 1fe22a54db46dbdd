/// `augment:` of an image input, as written: random transforms applied to each training batch
/// (never to validation, test, eval or predict), and the bounded-regression tasks whose labels
/// are coordinates in the image and so must follow the geometric transforms.
public struct Augmentation: Sendable {
    /// The `augment` key: where "a coordinate task is not listed" points.
    public var location: SourceLocation
    /// Mirror left–right with probability 1/2.
    public var flipHorizontal = false
    /// Mirror top–bottom with probability 1/2.
    public var flipVertical = false
    /// Turn counter-clockwise by k·90°, k uniform in 0…3 (square images only).
    public var rot90 = false
    /// Crop-and-zoom: the crop's side as a fraction of the image's, drawn uniformly from this
    /// range; nil leaves the framing alone.
    public var crop: ClosedRange<Double>? = nil
    public var blur: Blur? = nil
    /// Add δ, uniform in [−brightness, brightness], to every colour value (0 is off).
    public var brightness = 0.0
    /// Scale colour values around the image's mean by f, uniform in [1 − contrast, 1 + contrast].
    public var contrast = 0.0
    /// Coordinate tasks holding boxes: `[x, y, width, height]` task names, as written.
    public var boxes: [[Located<String>]] = []
    /// Coordinate tasks holding points: `[x, y]` task names, as written.
    public var points: [[Located<String>]] = []
    /// Bounded-regression tasks reading the image whose labels do not depend on position.
    public var invariant: [Located<String>] = []

    public init(location: SourceLocation) { self.location = location }

    /// Whether some transform moves pixels to other places, which coordinate labels must follow.
    public var isGeometric: Bool { flipHorizontal || flipVertical || rot90 || crop != nil }
}

/// Gaussian blur of a training image: with probability `probability`, σ (in pixels) drawn
/// uniformly from `sigma`.
public struct Blur: Sendable, Equatable {
    public var sigma: ClosedRange<Double>
    public var probability: Double

    public init(sigma: ClosedRange<Double>, probability: Double) {
        self.sigma = sigma
        self.probability = probability
    }
}

/// An image input's augmentation with its coordinate tasks resolved to paths.
public struct ResolvedAugmentation: Sendable {
    public var settings: Augmentation
    /// Each box as the paths of its x, y, width and height tasks.
    public var boxes: [[TaskPath]]
    /// Each point as the paths of its x and y tasks.
    public var points: [[TaskPath]]
    public var invariant: [TaskPath]
}
