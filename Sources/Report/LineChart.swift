/// A line chart as a self-contained SVG: training curves per epoch, ROC and precision–recall
/// curves, a metric against the threshold. Axes get round ticks (1, 2 or 5 × 10ⁿ); several
/// series get a legend; non-finite points break a line instead of breaking the drawing; a chart
/// without data still draws its frame and says "no data".
public struct LineChart: Sendable {
    /// One named line. Dashed lines tell a validation curve from its training twin.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    /// A vertical line at `x` with a label, such as the chosen decision threshold, and a dot
    /// at (`x`, `y`) when the chosen point's value is given.
    public struct Marker: Sendable {
        public var x: Double
        public var y: Double?
        public var label: String

        public init(x: Double, y: Double? = nil, label: String) {
            self.x = x
            self.y = y
            self.label = label
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed ranges (0…1 for rates); nil fits the axis to the data, widened to round values.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// The line y = x, the ROC curve of a classifier that guesses.
    public var diagonal: Bool
    public var marker: Marker?
    /// Whether several series get a legend; a chart of many (every trial of a search) names
    /// each in its tooltip instead.
    public var showsLegend = true

    public init(title: String, xLabel: String, yLabel: String, series: [Series],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                diagonal: Bool = false, marker: Marker? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.diagonal = diagonal
        self.marker = marker
    }

    /// The chart as an `<svg>` element of `width` × `height` pixels (at least 200 × 150, below
    /// which the labels would cover the plot).
    public func svg(width: Int = 480, height: Int = 300) -> String {
        let width = max(width, 200), height = max(height, 150)
        var canvas = SVGCanvas(width: width, height: height, title: title)
        let legend = series.count > 1 && showsLegend ? legendLayout(width: width) : []
        let legendRows = (legend.last?.row ?? -1) + 1
        let frame = PlotFrame(left: 58, top: 30, right: Double(width) - 16,
                              bottom: Double(height) - 44 - Double(legendRows) * 16)

        drawAxisTitles(on: &canvas, frame: frame)
        drawLegend(legend, on: &canvas, frame: frame)

        guard let axes = axes(frame: frame) else {
            canvas.add("rect", frame.rectAttributes)
            canvas.add("text", ["x": SVGCanvas.number(frame.centerX), "y": SVGCanvas.number(frame.centerY),
                                "text-anchor": "middle", "fill": "#777777", "font-size": "13"], text: "no data")
            return canvas.finished()
        }
        drawGrid(axes, on: &canvas, frame: frame)
        canvas.add("rect", frame.rectAttributes)
        drawData(axes, on: &canvas, frame: frame)
        drawMarker(axes, on: &canvas, frame: frame)
        return canvas.finished()
    }

    // MARK: Layout

    /// Where the plot area is, in pixels.
    private struct PlotFrame {
        var left, top, right, bottom: Double
        var width: Double { right - left }
        var height: Double { bottom - top }
        var centerX: Double { (left + right) / 2 }
        var centerY: Double { (top + bottom) / 2 }
        var rectAttributes: SVGCanvas.Attributes {
            ["x": SVGCanvas.number(left), "y": SVGCanvas.number(top), "width": SVGCanvas.number(width),
             "height": SVGCanvas.number(height), "fill": "none", "stroke": "#888888"]
        }
    }

    /// How far inside the frame the axes' ends are drawn, in pixels: a curve along an end (the
    /// ROC or precision–recall curve of a perfect classifier) would otherwise lie on the frame
    /// and vanish.
    static let dataInset = 4.0

    /// Both axes' ticks, and the mapping from data to pixels relative to the plot's corner.
    private struct Axes {
        var x: AxisTicks, y: AxisTicks

        func pixel(_ point: (x: Double, y: Double), in frame: PlotFrame) -> (x: Double, y: Double) {
            let inset = LineChart.dataInset
            return (inset + (point.x - x.lower) / (x.upper - x.lower) * (frame.width - 2 * inset),
                    frame.height - inset - (point.y - y.lower) / (y.upper - y.lower) * (frame.height - 2 * inset))
        }
    }

    /// Nil when there is no finite point to draw.
    private func axes(frame: PlotFrame) -> Axes? {
        var xs: [Double] = [], ys: [Double] = []
        for line in series {
            for point in line.points where point.x.isFinite && point.y.isFinite {
                xs.append(point.x)
                ys.append(point.y)
            }
        }
        guard !xs.isEmpty else { return nil }
        var markedXs = xs
        if let marker, marker.x.isFinite { markedXs.append(marker.x) }
        // One tick per 80 pixels across and 50 down keeps labels apart at any size.
        return Axes(x: Self.ticks(markedXs, fixed: xRange, count: Int(frame.width / 80)),
                    y: Self.ticks(ys, fixed: yRange, count: Int(frame.height / 50)))
    }

    private static func ticks(_ values: [Double], fixed: ClosedRange<Double>?, count: Int) -> AxisTicks {
        if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite, fixed.lowerBound < fixed.upperBound {
            return AxisTicks(within: fixed, count: count)
        }
        var low = Double.infinity, high = -Double.infinity, integers = true
        for value in values {
            low = min(low, value)
            high = max(high, value)
            if value != value.rounded() { integers = false }
        }
        return AxisTicks(covering: low, high, count: count, integers: integers)
    }

    private struct LegendEntry {
        var series: Int
        var text: String
        var row: Int
        var x: Double
    }

    /// Entries left to right, wrapping onto further rows under the x-axis title.
    private func legendLayout(width: Int) -> [LegendEntry] {
        var entries: [LegendEntry] = []
        var row = 0, x = 16.0
        for (index, line) in series.enumerated() {
            let text = TextFit.truncated(line.name, to: 28)
            let entryWidth = 30 + TextFit.width(characters: text.count, fontSize: 11)
            if x > 16, x + entryWidth > Double(width) - 16 {
                row += 1
                x = 16
            }
            entries.append(LegendEntry(series: index, text: text, row: row, x: x))
            x += entryWidth + 16
        }
        return entries
    }

    // MARK: Drawing

    private func drawAxisTitles(on canvas: inout SVGCanvas, frame: PlotFrame) {
        let xText = TextFit.truncated(xLabel, to: TextFit.characters(fitting: frame.width, fontSize: 11))
        canvas.add("text", ["x": SVGCanvas.number(frame.centerX), "y": SVGCanvas.number(frame.bottom + 34),
                            "text-anchor": "middle", "fill": "#333333"],
                   text: xText, tooltip: xText == xLabel ? nil : xLabel)
        let yText = TextFit.truncated(yLabel, to: TextFit.characters(fitting: frame.height, fontSize: 11))
        canvas.add("text", ["transform": SVGCanvas.translate(14, frame.centerY, then: "rotate(-90)"),
                            "text-anchor": "middle", "fill": "#333333"],
                   text: yText, tooltip: yText == yLabel ? nil : yLabel)
    }

    private func drawLegend(_ entries: [LegendEntry], on canvas: inout SVGCanvas, frame: PlotFrame) {
        for entry in entries {
            let line = series[entry.series]
            let y = frame.bottom + 52 + Double(entry.row) * 16
            canvas.add("line", ["x1": SVGCanvas.number(entry.x), "y1": SVGCanvas.number(y - 4),
                                "x2": SVGCanvas.number(entry.x + 24), "y2": SVGCanvas.number(y - 4),
                                "stroke": ChartPalette.series(entry.series), "stroke-width": "2",
                                "stroke-dasharray": line.dashed ? "6 4" : "none"])
            canvas.add("text", ["x": SVGCanvas.number(entry.x + 30), "y": SVGCanvas.number(y)],
                       text: entry.text, tooltip: entry.text == line.name ? nil : line.name)
        }
    }

    private func drawGrid(_ axes: Axes, on canvas: inout SVGCanvas, frame: PlotFrame) {
        for value in axes.x.values {
            let x = SVGCanvas.number(frame.left + axes.pixel((value, axes.y.lower), in: frame).x)
            canvas.add("line", ["x1": x, "y1": SVGCanvas.number(frame.top), "x2": x,
                                "y2": SVGCanvas.number(frame.bottom), "stroke": "#e6e6e6"])
            canvas.add("text", ["x": x, "y": SVGCanvas.number(frame.bottom + 15), "text-anchor": "middle",
                                "fill": "#555555"], text: axes.x.label(value))
        }
        for value in axes.y.values {
            let y = SVGCanvas.number(frame.top + axes.pixel((axes.x.lower, value), in: frame).y)
            canvas.add("line", ["x1": SVGCanvas.number(frame.left), "y1": y, "x2": SVGCanvas.number(frame.right),
                                "y2": y, "stroke": "#e6e6e6"])
            canvas.add("text", ["x": SVGCanvas.number(frame.left - 6), "y": y, "dy": "0.32em",
                                "text-anchor": "end", "fill": "#555555"], text: axes.y.label(value))
        }
    }

    /// The diagonal, the series and the marker's dot, inside a nested `<svg>` that clips them to the plot (plus
    /// a few pixels, so a line along an edge is not cut in half). Clipping this way needs no
    /// `id`, which could clash between charts inlined in one page.
    private func drawData(_ axes: Axes, on canvas: inout SVGCanvas, frame: PlotFrame) {
        let bleed = 3.0
        canvas.open("svg", ["x": SVGCanvas.number(frame.left - bleed), "y": SVGCanvas.number(frame.top - bleed),
                            "width": SVGCanvas.number(frame.width + 2 * bleed),
                            "height": SVGCanvas.number(frame.height + 2 * bleed), "overflow": "hidden"])
        canvas.open("g", ["transform": SVGCanvas.translate(bleed, bleed)])
        if diagonal {
            let low = max(axes.x.lower, axes.y.lower), high = min(axes.x.upper, axes.y.upper)
            if low < high {
                let start = axes.pixel((low, low), in: frame), end = axes.pixel((high, high), in: frame)
                canvas.add("line", ["x1": SVGCanvas.number(start.x), "y1": SVGCanvas.number(start.y),
                                    "x2": SVGCanvas.number(end.x), "y2": SVGCanvas.number(end.y),
                                    "stroke": "#999999", "stroke-dasharray": "4 4"])
            }
        }
        for (index, line) in series.enumerated() {
            let color = ChartPalette.series(index)
            canvas.open("g", ["fill": "none", "stroke": color, "stroke-width": "1.8",
                              "stroke-dasharray": line.dashed ? "6 4" : "none"], tooltip: line.name)
            for run in Self.runs(line.points, axes: axes, frame: frame) {
                if run.count == 1 {
                    // A lone point has no line to draw; a dot shows it.
                    canvas.add("circle", ["cx": SVGCanvas.number(run[0].x), "cy": SVGCanvas.number(run[0].y),
                                          "r": "2.5", "fill": color, "stroke": "none"])
                } else {
                    var text = ""
                    for pixel in run {
                        if !text.isEmpty { text += " " }
                        text += SVGCanvas.number(pixel.x) + "," + SVGCanvas.number(pixel.y)
                    }
                    canvas.add("polyline", ["points": text])
                }
            }
            canvas.close()
        }
        if let marker, let y = marker.y, marker.x.isFinite, y.isFinite {
            let dot = axes.pixel((marker.x, y), in: frame)
            canvas.add("circle", ["cx": SVGCanvas.number(dot.x), "cy": SVGCanvas.number(dot.y), "r": "3.5",
                                  "fill": "#333333", "stroke": "none"], tooltip: marker.label)
        }
        canvas.close()
        canvas.close()
    }

    /// The series in pixels, split where a point is not finite. A point less than half a pixel
    /// from the last one kept is dropped (a run's last point always stays): a ROC curve of a
    /// million distinct scores then costs a few hundred points, and no drawn line moves by more
    /// than half a pixel.
    private static func runs(_ points: [(x: Double, y: Double)], axes: Axes,
                             frame: PlotFrame) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = []
        var run: [(x: Double, y: Double)] = []
        var dropped: (x: Double, y: Double)?
        func endRun() {
            // A run whose points all fell within half a pixel of its first stays a dot.
            if let last = dropped, run.count > 1 { run.append(last) }
            if !run.isEmpty { runs.append(run) }
            run = []
            dropped = nil
        }
        for point in points {
            guard point.x.isFinite, point.y.isFinite else {
                endRun()
                continue
            }
            let pixel = axes.pixel(point, in: frame)
            if let last = run.last, abs(pixel.x - last.x) < 0.5, abs(pixel.y - last.y) < 0.5 {
                dropped = pixel
            } else {
                run.append(pixel)
                dropped = nil
            }
        }
        endRun()
        return runs
    }

    private func drawMarker(_ axes: Axes, on canvas: inout SVGCanvas, frame: PlotFrame) {
        guard let marker, marker.x.isFinite, marker.x >= axes.x.lower, marker.x <= axes.x.upper else { return }
        let x = frame.left + axes.pixel((marker.x, axes.y.lower), in: frame).x
        canvas.add("line", ["x1": SVGCanvas.number(x), "y1": SVGCanvas.number(frame.top), "x2": SVGCanvas.number(x),
                            "y2": SVGCanvas.number(frame.bottom), "stroke": "#333333", "stroke-dasharray": "3 3"])
        // The label sits on the side with more room.
        let onRight = x < frame.left + frame.width * 0.7
        let text = TextFit.truncated(marker.label, to: 40)
        canvas.add("text", ["x": SVGCanvas.number(onRight ? x + 4 : x - 4), "y": SVGCanvas.number(frame.top + 12),
                            "text-anchor": onRight ? "start" : "end", "fill": "#333333"],
                   text: text, tooltip: text == marker.label ? nil : marker.label)
    }
}
