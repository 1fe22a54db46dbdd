/// Names from data fitted into a chart. An SVG writer cannot measure fonts, so widths are
/// estimated at 0.6 em per character, which covers most sans-serif Latin text; a label that
/// would not fit is cut with an ellipsis (at the end, or at the start for titles) and its full
/// text kept for a tooltip.
enum TextFit {
    /// `text` when it has at most `limit` characters, else its first `limit − 1` and "…".
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(limit - 1, 0))) + "…"
    }

    /// `text` when it has at most `limit` characters, else "…" and its last `limit − 1`. For
    /// chart titles, which start with the task path: the root flows that every chart of a run
    /// shares go, and the task, the label and the split (the end, which tells charts apart) stay.
    static func truncatedAtStart(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return "…" + String(text.suffix(max(limit - 1, 0)))
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
