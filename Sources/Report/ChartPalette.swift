/// The colours charts use. Series take Okabe and Ito's palette in order, which stays
/// distinguishable under the common colour-vision deficiencies (its yellow is left out: too
/// pale on white). Heat maps shade from white to a dark blue.
enum ChartPalette {
    static let series = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    static func series(_ index: Int) -> String { series[index % series.count] }

    /// The fill for `fraction` (0 white … 1 dark blue, clamped), and black or white text,
    /// whichever contrasts with that fill.
    static func heat(_ fraction: Double) -> (fill: String, text: String) {
        let t = fraction.isNaN ? 0 : min(max(fraction, 0), 1)
        let dark = (r: 8.0, g: 48.0, b: 107.0)
        let r = 255 + (dark.r - 255) * t, g = 255 + (dark.g - 255) * t, b = 255 + (dark.b - 255) * t
        // Rec. 709 luma of the gamma-encoded colour: crude, but enough to pick black or white.
        let luma = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
        return ("#" + hex(r) + hex(g) + hex(b), luma < 0.5 ? "#ffffff" : "#000000")
    }

    private static func hex(_ channel: Double) -> String {
        let value = Int(channel.rounded())
        let text = String(value, radix: 16)
        return value < 16 ? "0" + text : text
    }
}
