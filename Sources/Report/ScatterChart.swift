/// A scatter plot as a self-contained SVG: one dot per point, coloured by its group (with a
/// legend when there are several), x on a `ChartScale` (choices spread a little sideways so
/// that equal values stay apart), y linear. A search's objective against one parameter, each
/// trial's dot coloured by how far it trained.
public struct ScatterChart: Sendable {
    /// One dot; `label` is its tooltip.
    public struct Point: Sendable {
        public var x: Double
        public var y: Double
        public var group: Int
        public var label: String

        public init(x: Double, y: Double, group: Int = 0, label: String) {
            (self.x, self.y, self.group, self.label) = (x, y, group, label)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: ChartScale
    /// The groups' names, for the legend.
    public var groups: [String]
    public var points: [Point]
    /// A point drawn with a ring around it (the best trial).
    public var highlighted: Int?

    public init(title: String, xLabel: String, yLabel: String, xScale: ChartScale, groups: [String], points: [Point],
                highlighted: Int? = nil) {
        (self.title, self.xLabel, self.yLabel, self.xScale) = (title, xLabel, yLabel, xScale)
        (self.groups, self.points, self.highlighted) = (groups, points, highlighted)
    }

    /// The chart as an `<svg>` element of `width` × `height` pixels (at least 200 × 150).
    public func svg(width: Int = 360, height: Int = 260) -> String {
        let width = max(width, 200), height = max(height, 150)
        var canvas = SVGCanvas(width: width, height: height, title: title)
        let legendRows = groups.count > 1 ? 1 : 0
        let left = 58.0, top = 30.0, right = Double(width) - 16, bottom = Double(height) - 44 - Double(legendRows) * 16
        let drawn = points.enumerated().filter { $0.element.x.isFinite && $0.element.y.isFinite }
        let x = ScaledAxis(xScale, values: drawn.map(\.element.x), count: Int((right - left) / 80))
        let y = ScaledAxis(.linear, values: drawn.map(\.element.y), count: Int((bottom - top) / 50))
        let inset = LineChart.dataInset
        func pixel(_ position: Double, from a: Double, to b: Double) -> Double { a + inset + position * (b - a - 2 * inset) }

        canvas.add("text", ["x": SVGCanvas.number((left + right) / 2), "y": SVGCanvas.number(bottom + 34),
                            "text-anchor": "middle", "fill": "#333333"], text: TextFit.truncated(xLabel, to: 60), tooltip: xLabel)
        canvas.add("text", ["transform": SVGCanvas.translate(14, (top + bottom) / 2, then: "rotate(-90)"), "text-anchor": "middle",
                            "fill": "#333333"], text: TextFit.truncated(yLabel, to: 40), tooltip: yLabel)
        for tick in x.ticks {
            let px = SVGCanvas.number(pixel(tick.position, from: left, to: right))
            canvas.add("line", ["x1": px, "y1": SVGCanvas.number(top), "x2": px, "y2": SVGCanvas.number(bottom), "stroke": "#e6e6e6"])
            let text = TextFit.truncated(tick.label, to: max(3, Int((right - left) / Double(max(x.ticks.count, 1)) / 6.6)))
            canvas.add("text", ["x": px, "y": SVGCanvas.number(bottom + 15), "text-anchor": "middle", "fill": "#555555"],
                       text: text, tooltip: text == tick.label ? nil : tick.label)
        }
        for tick in y.ticks {
            let py = SVGCanvas.number(pixel(1 - tick.position, from: top, to: bottom))
            canvas.add("line", ["x1": SVGCanvas.number(left), "y1": py, "x2": SVGCanvas.number(right), "y2": py, "stroke": "#e6e6e6"])
            canvas.add("text", ["x": SVGCanvas.number(left - 6), "y": py, "dy": "0.32em", "text-anchor": "end", "fill": "#555555"],
                       text: tick.label)
        }
        canvas.add("rect", ["x": SVGCanvas.number(left), "y": SVGCanvas.number(top), "width": SVGCanvas.number(right - left),
                            "height": SVGCanvas.number(bottom - top), "fill": "none", "stroke": "#888888"])
        if drawn.isEmpty {
            canvas.add("text", ["x": SVGCanvas.number((left + right) / 2), "y": SVGCanvas.number((top + bottom) / 2),
                                "text-anchor": "middle", "fill": "#777777", "font-size": "13"], text: "no data")
        }
        let spread: Double = if case .categories(let names) = xScale { 0.5 / Double(max(names.count, 1)) } else { 0 }
        for (index, point) in drawn {
            guard var px = x.position(point.x), let py = y.position(point.y) else { continue }
            // The golden ratio's fractional part spreads the points of one choice evenly, the same way every time.
            px += spread * ((Double(index) * 0.618_034).truncatingRemainder(dividingBy: 1) - 0.5)
            let cx = SVGCanvas.number(pixel(px, from: left, to: right)), cy = SVGCanvas.number(pixel(1 - py, from: top, to: bottom))
            canvas.add("circle", ["cx": cx, "cy": cy, "r": "3.5", "fill": ChartPalette.series(point.group), "fill-opacity": "0.8",
                                  "stroke": "none"], tooltip: point.label)
            if index == highlighted {
                canvas.add("circle", ["cx": cx, "cy": cy, "r": "7", "fill": "none", "stroke": "#000000", "stroke-width": "1.5"],
                           tooltip: point.label)
            }
        }
        var legendX = 16.0
        for (group, name) in groups.enumerated() where groups.count > 1 {
            let legendY = bottom + 52
            canvas.add("circle", ["cx": SVGCanvas.number(legendX + 4), "cy": SVGCanvas.number(legendY - 4), "r": "3.5",
                                  "fill": ChartPalette.series(group)])
            let text = TextFit.truncated(name, to: 24)
            canvas.add("text", ["x": SVGCanvas.number(legendX + 12), "y": SVGCanvas.number(legendY)], text: text)
            legendX += 28 + TextFit.width(characters: text.count, fontSize: 11)
        }
        return canvas.finished()
    }
}
