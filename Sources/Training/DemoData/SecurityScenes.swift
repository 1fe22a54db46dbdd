import Engine
import Foundation

/// Synthetic home-security scenes in the spirit of dnn_cool's generator: a 64×64 RGB camera
/// view of a front door. The camera may be blocked; otherwise the door is open or closed, a
/// closed door is locked or not (a red or green lamp by the handle), and behind an open door a
/// person may stand, with a face (hat, glasses, beard) and a shirt of one of seven colours.
///
/// Labels follow `flows/security.yaml`'s preconditions exactly: a task whose precondition does
/// not hold on a scene has an empty cell, and a few percent of the other labels are missing at
/// random. Boxes are in pixels.
public struct SecurityScenes {
    public static let shirtColours = ["red", "orange", "yellow", "green", "blue", "purple", "white"]
    public static let facialCharacteristics = ["hat", "glasses", "beard"]
    static let size = 64

    /// One scene: its pixels (64×64×3, row-major) and its label cells by column name.
    public struct Scene {
        public var pixels: [UInt8]
        public var labels: [String: String]
    }

    /// The CSV columns after `image`, in the flow's task order.
    public static let labelColumns = [
        "camera_blocked", "door_open", "door_locked", "person_present",
        "person_regression.face_regression.face_x1", "person_regression.face_regression.face_y1",
        "person_regression.face_regression.face_w", "person_regression.face_regression.face_h",
        "person_regression.face_regression.facial_characteristics",
        "person_regression.body_regression.body_x1", "person_regression.body_regression.body_y1",
        "person_regression.body_regression.body_w", "person_regression.body_regression.body_h",
        "person_regression.body_regression.shirt_type",
    ]

    var random: Random
    let missingRate: Float

    public init(seed: UInt64, missingRate: Float = 0.03) {
        random = Random(seed: seed)
        self.missingRate = missingRate
    }

    private mutating func chance(_ p: Float) -> Bool { random.uniform() < p }

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + min(Int(random.uniform() * Float(range.count)), range.count - 1)
    }

    public mutating func next() -> Scene {
        var canvas = Canvas(size: Self.size)
        var labels: [String: String] = [:]
        func label(_ column: String, _ value: String) {
            labels[column] = value
        }
        if chance(0.1) {
            // Something covers the lens: dark, blotchy, no door to see.
            canvas.fill(x: 0, y: 0, w: Self.size, h: Self.size, colour: (40, 38, 36), jitter: 18, random: &random)
            canvas.fill(x: int(0...40), y: int(0...40), w: 24, h: 24, colour: (70, 62, 55), jitter: 10, random: &random)
            label("camera_blocked", "1")
            return finish(canvas, labels)
        }
        label("camera_blocked", "0")
        let wall = (int(170...225), int(170...225), int(160...215))
        canvas.fill(x: 0, y: 0, w: Self.size, h: Self.size, colour: wall, jitter: 6, random: &random)
        let doorX = int(14...24), doorY = int(6...10), doorW = int(22...26), doorH = Self.size - doorY - 2
        canvas.fill(x: doorX - 2, y: doorY - 2, w: doorW + 4, h: doorH + 2, colour: (90, 90, 90), jitter: 4, random: &random)
        let open = chance(0.5)
        label("door_open", open ? "1" : "0")
        if !open {
            canvas.fill(x: doorX, y: doorY, w: doorW, h: doorH, colour: (125, 75, 35), jitter: 8, random: &random)
            let handleY = doorY + doorH / 2
            canvas.fill(x: doorX + doorW - 5, y: handleY, w: 3, h: 2, colour: (230, 200, 60), jitter: 0, random: &random)
            let locked = chance(0.5)
            let lamp = locked ? (220, 30, 30) : (30, 200, 40)
            canvas.fill(x: doorX + doorW - 6, y: handleY - 6, w: 4, h: 4, colour: lamp, jitter: 0, random: &random)
            label("door_locked", locked ? "1" : "0")
            return finish(canvas, labels)
        }
        // An open door: the dark hall behind it, the door leaf swung against the frame.
        canvas.fill(x: doorX, y: doorY, w: doorW, h: doorH, colour: (30, 30, 38), jitter: 6, random: &random)
        canvas.fill(x: doorX - 6, y: doorY, w: 4, h: doorH, colour: (125, 75, 35), jitter: 8, random: &random)
        let present = chance(0.6)
        label("person_present", present ? "1" : "0")
        guard present else { return finish(canvas, labels) }
        let bodyW = int(9...13), bodyH = int(16...22)
        let bodyX = doorX + int(1...(doorW - bodyW - 1)), bodyY = doorY + doorH - bodyH - int(0...3)
        let faceW = int(6...8), faceH = int(7...9)
        let faceX = bodyX + (bodyW - faceW) / 2 + int(-1...1), faceY = bodyY - faceH
        let shirt = int(0...6)
        let shirtRGB = [(220, 30, 30), (240, 140, 20), (240, 230, 40), (40, 180, 50), (40, 80, 220), (140, 50, 180),
                        (245, 245, 245)][shirt]
        canvas.fill(x: bodyX, y: bodyY, w: bodyW, h: bodyH, colour: shirtRGB, jitter: 6, random: &random)
        canvas.fill(x: faceX, y: faceY, w: faceW, h: faceH, colour: (225, 180, 140), jitter: 6, random: &random)
        var traits: [String] = []
        if chance(0.4) {
            traits.append("hat")
            canvas.fill(x: faceX, y: faceY, w: faceW, h: 2, colour: (20, 20, 20), jitter: 0, random: &random)
        }
        if chance(0.4) {
            traits.append("glasses")
            canvas.fill(x: faceX + 1, y: faceY + faceH / 2 - 1, w: faceW - 2, h: 1, colour: (60, 60, 200), jitter: 0, random: &random)
        }
        if chance(0.4) {
            traits.append("beard")
            canvas.fill(x: faceX + 1, y: faceY + faceH - 2, w: faceW - 2, h: 2, colour: (90, 50, 20), jitter: 0, random: &random)
        }
        let face = "person_regression.face_regression.", body = "person_regression.body_regression."
        label(face + "face_x1", String(faceX))
        label(face + "face_y1", String(faceY))
        label(face + "face_w", String(faceW))
        label(face + "face_h", String(faceH))
        label(face + "facial_characteristics", traits.isEmpty ? "none" : traits.joined(separator: "|"))
        label(body + "body_x1", String(bodyX))
        label(body + "body_y1", String(bodyY))
        label(body + "body_w", String(bodyW))
        label(body + "body_h", String(bodyH))
        label(body + "shirt_type", Self.shirtColours[shirt])
        return finish(canvas, labels)
    }

    /// Drops a few labels at random, as real annotation does.
    private mutating func finish(_ canvas: Canvas, _ labels: [String: String]) -> Scene {
        var kept = labels
        for column in Self.labelColumns where labels[column] != nil && chance(missingRate) {
            kept[column] = nil
        }
        return Scene(pixels: canvas.pixels, labels: kept)
    }

    /// An RGB drawing surface.
    struct Canvas {
        let size: Int
        var pixels: [UInt8]

        init(size: Int) {
            self.size = size
            pixels = [UInt8](repeating: 0, count: size * size * 3)
        }

        /// A rectangle (clipped to the canvas) of `colour`, each pixel varied by up to ±jitter.
        mutating func fill(x: Int, y: Int, w: Int, h: Int, colour: (Int, Int, Int), jitter: Int,
                           random: inout Random) {
            for row in max(0, y)..<min(size, y + h) {
                for column in max(0, x)..<min(size, x + w) {
                    let noise = jitter == 0 ? 0 : Int(random.uniform() * Float(2 * jitter + 1)) - jitter
                    let index = (row * size + column) * 3
                    pixels[index] = UInt8(clamping: colour.0 + noise)
                    pixels[index + 1] = UInt8(clamping: colour.1 + noise)
                    pixels[index + 2] = UInt8(clamping: colour.2 + noise)
                }
            }
        }
    }
}
