/// Names from data fitted into a chart. An SVG writer cannot measure fonts, so widths are
/// estimated at 0.6 em per character, which covers most sans-serif Latin text; a label that
/// would not fit is cut with an ellipsis and its full text kept for a tooltip.
enum TextFit {
    /// `text` when it has at most `limit` characters, else its first `limit − 1` and "…".
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(limit - 1, 0))) + "…"
    }

    /// The estimated width in pixels of `characters` characters at `fontSize` pixels.
    static func width(characters: Int, fontSize: Double) -> Double {
        Double(characters) * fontSize * 0.6
    }

    /// How many characters fit in `width` pixels at `fontSize` pixels (at least one).
    static func characters(fitting width: Double, fontSize: Double) -> Int {
        max(1, Int(width / (fontSize * 0.6)))
    }
}
