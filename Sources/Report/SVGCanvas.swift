/// An SVG document written element by element. Every attribute value and text goes through
/// `XMLText.escape`, so names from data (tasks, classes, series) cannot break the markup. The
/// result is self-contained (no external fonts, styles or scripts) because it is inlined into
/// report.html as well as saved on its own under plots/.
struct SVGCanvas {
    typealias Attributes = KeyValuePairs<String, String>

    private var markup: String
    private var openElements: [String] = []

    /// A `width` × `height` pixel drawing on white with `title` as its heading, cut at its
    /// start to the width; the full title is what screen readers and tooltips show for the
    /// whole chart.
    init(width: Int, height: Int, title: String) {
        markup = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\""
            + " viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"11\">"
        markup += "<title>\(XMLText.escape(title))</title>"
        add("rect", ["width": "\(width)", "height": "\(height)", "fill": "#ffffff"])
        let heading = TextFit.truncatedAtStart(title, to: TextFit.characters(fitting: Double(width) - 16, fontSize: 13))
        add("text", ["x": Self.number(Double(width) / 2), "y": "19", "text-anchor": "middle",
                     "font-size": "13", "font-weight": "bold"], text: heading)
    }

    /// An element without children, or with `text` inside; `tooltip` becomes its `<title>`,
    /// which browsers show on hover (the full name behind a truncated label).
    mutating func add(_ name: String, _ attributes: Attributes, text: String? = nil, tooltip: String? = nil) {
        markup += "<" + name + Self.attributeText(attributes)
        guard text != nil || tooltip != nil else {
            markup += "/>"
            return
        }
        markup += ">"
        if let tooltip { markup += "<title>\(XMLText.escape(tooltip))</title>" }
        if let text { markup += XMLText.escape(text) }
        markup += "</" + name + ">"
    }

    /// Starts an element whose children follow, up to the matching `close()`.
    mutating func open(_ name: String, _ attributes: Attributes = [:], tooltip: String? = nil) {
        markup += "<" + name + Self.attributeText(attributes) + ">"
        if let tooltip { markup += "<title>\(XMLText.escape(tooltip))</title>" }
        openElements.append(name)
    }

    mutating func close() {
        guard let name = openElements.popLast() else { return }
        markup += "</" + name + ">"
    }

    /// The document, with any element still open closed.
    func finished() -> String {
        var text = markup
        for name in openElements.reversed() { text += "</" + name + ">" }
        return text + "</svg>"
    }

    /// A coordinate or length: two decimals are a hundredth of a pixel, finer than any screen.
    /// Values are clamped to a million pixels so that a wild point cannot produce a huge or
    /// non-finite number; such a point is off the drawing either way.
    static func number(_ value: Double) -> String {
        let clamped = value.isNaN ? 0 : min(max(value, -1e6), 1e6)
        return DecimalText.text(clamped, decimals: 2)
    }

    /// A `transform` moving the origin to (`x`, `y`), followed by `then` (a rotation, say).
    static func translate(_ x: Double, _ y: Double, then: String = "") -> String {
        "translate(\(number(x)) \(number(y)))" + (then.isEmpty ? "" : " " + then)
    }

    private static func attributeText(_ attributes: Attributes) -> String {
        var text = ""
        for (key, value) in attributes { text += " " + key + "=\"" + XMLText.escape(value) + "\"" }
        return text
    }
}
