/// A parallel-coordinates plot as a self-contained SVG: one vertical axis per dimension (a
/// search's parameters, then its objective), each on its own `ChartScale`, and one line per
/// item through its value on every axis. Lines are shaded by `shade` (0 pale … 1 dark, drawn
/// last so the dark ones stay on top); a line without one is pale grey, behind the others.
public struct ParallelCoordinatesChart: Sendable {
    /// One axis.
    public struct Dimension: Sendable {
        public var name: String
        public var scale: ChartScale

        public init(name: String, scale: ChartScale) { (self.name, self.scale) = (name, scale) }
    }

    /// One item: a value per dimension (NaN where it has none, which breaks its line there).
    public struct Line: Sendable {
        public var values: [Double]
        public var shade: Double?
        public var label: String

        public init(values: [Double], shade: Double?, label: String) { (self.values, self.shade, self.label) = (values, shade, label) }
    }

    public var title: String
    public var dimensions: [Dimension]
    public var lines: [Line]

    public init(title: String, dimensions: [Dimension], lines: [Line]) {
        (self.title, self.dimensions, self.lines) = (title, dimensions, lines)
    }

    /// The chart as an `<svg>` element of `width` × `height` pixels (at least 200 × 150).
    public func svg(width: Int = 960, height: Int = 340) -> String {
        let width = max(width, 200), height = max(height, 150)
        var canvas = SVGCanvas(width: width, height: height, title: title)
        let top = 56.0, bottom = Double(height) - 24, left = 60.0, right = Double(width) - 60
        let count = dimensions.count
        let step = count > 1 ? (right - left) / Double(count - 1) : 0
        let axes = dimensions.indices.map { d in
            ScaledAxis(dimensions[d].scale, values: lines.compactMap { d < $0.values.count ? $0.values[d] : nil },
                       count: Int((bottom - top) / 40))
        }
        func x(_ d: Int) -> Double { count > 1 ? left + Double(d) * step : (left + right) / 2 }
        func y(_ position: Double) -> Double { bottom - position * (bottom - top) }

        let order = lines.indices.sorted { (lines[$0].shade ?? -1, $0) < (lines[$1].shade ?? -1, $1) }
        for index in order {
            let line = lines[index]
            let colour = line.shade.map { ChartPalette.heat(0.25 + 0.75 * $0).fill } ?? "#d0d0d0"
            canvas.open("g", ["fill": "none", "stroke": colour, "stroke-width": line.shade == nil ? "1" : "1.6"], tooltip: line.label)
            var run: [String] = []
            func flush() {
                if run.count > 1 { canvas.add("polyline", ["points": run.joined(separator: " ")]) }
                run = []
            }
            for d in dimensions.indices {
                guard d < line.values.count, let position = axes[d].position(line.values[d]) else {
                    flush()
                    continue
                }
                run.append(SVGCanvas.number(x(d)) + "," + SVGCanvas.number(y(position)))
            }
            flush()
            canvas.close()
        }
        for d in dimensions.indices {
            let px = SVGCanvas.number(x(d))
            canvas.add("line", ["x1": px, "y1": SVGCanvas.number(top), "x2": px, "y2": SVGCanvas.number(bottom), "stroke": "#555555"])
            let room = count > 1 ? Int(step / 6.6) : 40
            let name = TextFit.truncatedAtStart(dimensions[d].name, to: max(room, 6))
            canvas.add("text", ["x": px, "y": SVGCanvas.number(top - 22), "text-anchor": "middle", "font-weight": "bold"],
                       text: name, tooltip: name == dimensions[d].name ? nil : dimensions[d].name)
            for tick in axes[d].ticks {
                let text = TextFit.truncated(tick.label, to: 14)
                canvas.add("text", ["x": SVGCanvas.number(x(d) - 4), "y": SVGCanvas.number(y(tick.position)), "dy": "0.32em",
                                    "text-anchor": "end", "fill": "#555555", "font-size": "10"],
                           text: text, tooltip: text == tick.label ? nil : tick.label)
                canvas.add("line", ["x1": SVGCanvas.number(x(d) - 2), "y1": SVGCanvas.number(y(tick.position)),
                                    "x2": SVGCanvas.number(x(d) + 2), "y2": SVGCanvas.number(y(tick.position)), "stroke": "#555555"])
            }
        }
        return canvas.finished()
    }
}
