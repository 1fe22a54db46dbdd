/// A square crop of an image, as fractions: its top-left corner at (x · width, y · height), its
/// sides `scale` × the image's.
struct Crop: Equatable {
    var x: Float
    var y: Float
    var scale: Float
}

/// A box label as fractions of the image's width (x, width) and height (y, height).
struct Box: Equatable {
    var x: Float
    var y: Float
    var width: Float
    var height: Float
}

/// A point label as fractions of the image's width (x) and height (y).
struct Point: Equatable {
    var x: Float
    var y: Float
}

/// One sample's geometric transforms, in the order `SampleAugmentation` applies them to the
/// pixels (crop, horizontal flip, vertical flip, quarter turns), and what they do to coordinate
/// labels.
struct SampleGeometry: Equatable {
    var crop: Crop?
    var flipHorizontal = false
    var flipVertical = false
    /// Counter-clockwise quarter turns, 0…3.
    var quarterTurns = 0

    /// Whether nothing moves: coordinate labels stay as they are.
    var isIdentity: Bool { crop == nil && !flipHorizontal && !flipVertical && quarterTurns == 0 }

    /// The box in the transformed image: clipped to the crop, or nil when none of it is left.
    func box(_ box: Box) -> Box? {
        var b = box
        if let crop {
            let left = max((b.x - crop.x) / crop.scale, 0), right = min((b.x + b.width - crop.x) / crop.scale, 1)
            let top = max((b.y - crop.y) / crop.scale, 0), bottom = min((b.y + b.height - crop.y) / crop.scale, 1)
            guard right > left, bottom > top else { return nil }
            b = Box(x: left, y: top, width: right - left, height: bottom - top)
        }
        if flipHorizontal { b.x = 1 - b.x - b.width }
        if flipVertical { b.y = 1 - b.y - b.height }
        // A quarter turn counter-clockwise takes (x, y) to (y, 1 − x): the box's left edge becomes
        // its bottom edge and its width its height.
        for _ in 0..<quarterTurns { b = Box(x: b.y, y: 1 - b.x - b.width, width: b.height, height: b.width) }
        return b
    }

    /// The point in the transformed image, or nil when the crop leaves it out.
    func point(_ point: Point) -> Point? {
        var p = point
        if let crop {
            p = Point(x: (p.x - crop.x) / crop.scale, y: (p.y - crop.y) / crop.scale)
            guard (0...1).contains(p.x), (0...1).contains(p.y) else { return nil }
        }
        if flipHorizontal { p.x = 1 - p.x }
        if flipVertical { p.y = 1 - p.y }
        for _ in 0..<quarterTurns { p = Point(x: p.y, y: 1 - p.x) }
        return p
    }
}
