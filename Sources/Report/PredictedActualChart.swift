/// A regression task's predictions against its labels as a self-contained SVG: a dot per row
/// at (actual, predicted), both axes over the same range, and the line y = x that a perfect
/// model's dots lie on. Above `maximumDots` rows every k-th row is drawn, in row order, so the
/// same evaluation always draws the same dots; a note under the axis says so.
public struct PredictedActualChart: Sendable {
    /// More dots than this only make a file heavy: at this many the cloud's shape already shows.
    public static let maximumDots = 2_000

    public var title: String
    /// In the label's own units, one pair per row the task counts on.
    public var pairs: [(actual: Double, predicted: Double)]

    public init(title: String, pairs: [(actual: Double, predicted: Double)]) {
        self.title = title
        self.pairs = pairs
    }

    /// The rows drawn: all of them up to `maximumDots`, else every k-th with k the smallest
    /// stride that keeps them within it.
    var drawnPairs: (pairs: [(actual: Double, predicted: Double)], stride: Int) {
        let finite = pairs.filter { $0.actual.isFinite && $0.predicted.isFinite }
        let stride = (finite.count + Self.maximumDots - 1) / Self.maximumDots
        guard stride > 1 else { return (finite, 1) }
        return (Swift.stride(from: 0, to: finite.count, by: stride).map { finite[$0] }, stride)
    }

    /// The chart as a 420 × 440 pixel `<svg>` element.
    public func svg() -> String {
        let width = 420.0, height = 440.0
        let left = 58.0, top = 30.0, size = width - left - 16, inset = 4.0
        var canvas = SVGCanvas(width: Int(width), height: Int(height), title: title)
        func n(_ value: Double) -> String { SVGCanvas.number(value) }
        canvas.add("text", ["x": n(left + size / 2), "y": n(top + size + 34), "text-anchor": "middle", "fill": "#333333"],
                   text: "actual")
        canvas.add("text", ["transform": SVGCanvas.translate(14, top + size / 2, then: "rotate(-90)"),
                            "text-anchor": "middle", "fill": "#333333"], text: "predicted")
        let frame: SVGCanvas.Attributes = ["x": n(left), "y": n(top), "width": n(size), "height": n(size),
                                           "fill": "none", "stroke": "#888888"]
        let (drawn, stride) = drawnPairs
        guard !drawn.isEmpty else {
            canvas.add("rect", frame)
            canvas.add("text", ["x": n(left + size / 2), "y": n(top + size / 2), "text-anchor": "middle",
                                "fill": "#777777", "font-size": "13"], text: "no data")
            return canvas.finished()
        }
        var low = Double.infinity, high = -Double.infinity
        for pair in drawn {
            low = min(low, pair.actual, pair.predicted)
            high = max(high, pair.actual, pair.predicted)
        }
        // The same round range both ways, so that y = x is the square's diagonal.
        let ticks = AxisTicks(covering: low, high, count: 5, integers: false)
        // The range's ends sit inside the frame, so dots at an end stay visible.
        func position(_ value: Double) -> Double {
            inset + (value - ticks.lower) / (ticks.upper - ticks.lower) * (size - 2 * inset)
        }
        func x(_ value: Double) -> Double { left + position(value) }
        func y(_ value: Double) -> Double { top + size - position(value) }
        for value in ticks.values {
            canvas.add("line", ["x1": n(x(value)), "y1": n(top), "x2": n(x(value)), "y2": n(top + size), "stroke": "#e6e6e6"])
            canvas.add("text", ["x": n(x(value)), "y": n(top + size + 15), "text-anchor": "middle", "fill": "#555555"],
                       text: ticks.label(value))
            canvas.add("line", ["x1": n(left), "y1": n(y(value)), "x2": n(left + size), "y2": n(y(value)), "stroke": "#e6e6e6"])
            canvas.add("text", ["x": n(left - 6), "y": n(y(value)), "dy": "0.32em", "text-anchor": "end", "fill": "#555555"],
                       text: ticks.label(value))
        }
        canvas.add("rect", frame)
        canvas.add("line", ["x1": n(x(ticks.lower)), "y1": n(y(ticks.lower)), "x2": n(x(ticks.upper)),
                            "y2": n(y(ticks.upper)), "stroke": "#999999", "stroke-dasharray": "4 4"],
                   tooltip: "predicted = actual")
        canvas.open("g", ["fill": ChartPalette.series(0), "fill-opacity": "0.45", "stroke": "none"])
        for pair in drawn {
            canvas.add("circle", ["cx": n(x(pair.actual)), "cy": n(y(pair.predicted)), "r": "2.2"])
        }
        canvas.close()
        let note = stride > 1 ? "\(drawn.count) of \(pairs.count) rows drawn (one in \(stride))" : "\(drawn.count) rows"
        canvas.add("text", ["x": n(left + size), "y": n(top + size + 50), "text-anchor": "end", "fill": "#777777"],
                   text: note)
        return canvas.finished()
    }
}
