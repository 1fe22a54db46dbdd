import Foundation
import Tasks

/// A reliability diagram as a self-contained SVG: per confidence bin, the mean confidence (across)
/// against how often the task was right (up), with the diagonal a calibrated model follows, and
/// underneath each bin's number of rows (log scale, so the sparse middle bins still show). Each
/// series is a set of bins — the raw scores and the calibrated ones, say — and its legend entry
/// gives its expected calibration error.
public struct ReliabilityChart: Sendable {
    /// One set of bins, named.
    public struct Series: Sendable {
        public var name: String
        public var bins: [CalibrationMetrics.Bin]
        public var dashed: Bool

        public init(name: String, bins: [CalibrationMetrics.Bin], dashed: Bool = false) {
            self.name = name
            self.bins = bins
            self.dashed = dashed
        }
    }

    public var title: String
    /// What the vertical axis counts: `fraction positive` (binary, multilabel) or `accuracy`.
    public var yLabel: String
    public var series: [Series]

    public init(title: String, yLabel: String, series: [Series]) {
        self.title = title
        self.yLabel = yLabel
        self.series = series
    }

    /// The diagram as an `<svg>` element, 440 pixels wide.
    public func svg() -> String {
        let width = 440.0
        let left = 58.0, right = width - 16, top = 30.0
        let plotBottom = top + 240, stripTop = plotBottom + 10, stripBottom = stripTop + 40
        let legendRows = series.count
        let height = stripBottom + 52 + Double(legendRows) * 16
        var canvas = SVGCanvas(width: Int(width), height: Int(height), title: title)
        func x(_ value: Double) -> Double { left + min(max(value, 0), 1) * (right - left) }
        func y(_ value: Double) -> Double { plotBottom - min(max(value, 0), 1) * (plotBottom - top) }
        func n(_ value: Double) -> String { SVGCanvas.number(value) }

        // Axes: 0…1 both ways, the x axis shared by the plot and the count strip.
        let ticks = AxisTicks(within: 0...1, count: 5)
        for value in ticks.values {
            canvas.add("line", ["x1": n(x(value)), "y1": n(top), "x2": n(x(value)), "y2": n(plotBottom), "stroke": "#e6e6e6"])
            canvas.add("text", ["x": n(x(value)), "y": n(stripBottom + 15), "text-anchor": "middle", "fill": "#555555"],
                       text: ticks.label(value))
            canvas.add("line", ["x1": n(left), "y1": n(y(value)), "x2": n(right), "y2": n(y(value)), "stroke": "#e6e6e6"])
            canvas.add("text", ["x": n(left - 6), "y": n(y(value)), "dy": "0.32em", "text-anchor": "end", "fill": "#555555"],
                       text: ticks.label(value))
        }
        canvas.add("text", ["x": n((left + right) / 2), "y": n(stripBottom + 34), "text-anchor": "middle", "fill": "#333333"],
                   text: "confidence (mean per bin)")
        canvas.add("text", ["transform": SVGCanvas.translate(14, (top + plotBottom) / 2, then: "rotate(-90)"),
                            "text-anchor": "middle", "fill": "#333333"], text: yLabel)
        canvas.add("line", ["x1": n(x(0)), "y1": n(y(0)), "x2": n(x(1)), "y2": n(y(1)), "stroke": "#999999",
                            "stroke-dasharray": "4 4"])

        for (index, line) in series.enumerated() {
            let color = ChartPalette.series(index)
            let filled = line.bins.filter { $0.count > 0 }
            canvas.open("g", ["fill": "none", "stroke": color, "stroke-width": "1.8",
                              "stroke-dasharray": line.dashed ? "6 4" : "none"], tooltip: line.name)
            if filled.count > 1 {
                canvas.add("polyline", ["points": filled.map { n(x($0.confidence)) + "," + n(y($0.accuracy)) }
                    .joined(separator: " ")])
            }
            canvas.close()
            for bin in filled {
                canvas.add("circle", ["cx": n(x(bin.confidence)), "cy": n(y(bin.accuracy)), "r": "3", "fill": color],
                           tooltip: "\(line.name): confidence \(Self.range(bin)): \(bin.count) rows, mean confidence "
                               + "\(DecimalText.text(bin.confidence, decimals: 3)), \(yLabel) "
                               + DecimalText.text(bin.accuracy, decimals: 3))
            }
        }
        canvas.add("rect", ["x": n(left), "y": n(top), "width": n(right - left), "height": n(plotBottom - top),
                            "fill": "none", "stroke": "#888888"])

        // Rows per bin, each series' bar side by side within the bin.
        let most = series.flatMap(\.bins).map(\.count).max() ?? 0
        let binWidth = (right - left) / Double(CalibrationMetrics.binCount)
        let barWidth = (binWidth - 2) / Double(max(series.count, 1))
        for (index, line) in series.enumerated() {
            for (b, bin) in line.bins.enumerated() where bin.count > 0 {
                let share = log1p(Double(bin.count)) / log1p(Double(max(most, 1)))
                let barHeight = max(1, share * (stripBottom - stripTop))
                canvas.add("rect", ["x": n(left + Double(b) * binWidth + 1 + Double(index) * barWidth),
                                    "y": n(stripBottom - barHeight), "width": n(barWidth), "height": n(barHeight),
                                    "fill": ChartPalette.series(index)],
                           tooltip: "\(line.name): confidence \(Self.range(bin)): \(bin.count) rows")
            }
        }
        canvas.add("rect", ["x": n(left), "y": n(stripTop), "width": n(right - left), "height": n(stripBottom - stripTop),
                            "fill": "none", "stroke": "#888888"])
        canvas.add("text", ["x": n(left - 6), "y": n(stripTop), "dy": "0.8em", "text-anchor": "end", "fill": "#555555"],
                   text: String(most), tooltip: "rows in the fullest bin (bars on a log scale)")
        canvas.add("text", ["x": n(left - 6), "y": n(stripBottom), "text-anchor": "end", "fill": "#555555"], text: "rows")

        for (index, line) in series.enumerated() {
            let legendY = stripBottom + 52 + Double(index) * 16
            canvas.add("line", ["x1": n(16), "y1": n(legendY - 4), "x2": n(40), "y2": n(legendY - 4),
                                "stroke": ChartPalette.series(index), "stroke-width": "2",
                                "stroke-dasharray": line.dashed ? "6 4" : "none"])
            let text = TextFit.truncated(line.name, to: TextFit.characters(fitting: width - 62, fontSize: 11))
            canvas.add("text", ["x": n(46), "y": n(legendY)], text: text, tooltip: text == line.name ? nil : line.name)
        }
        return canvas.finished()
    }

    private static func range(_ bin: CalibrationMetrics.Bin) -> String {
        DecimalText.text(bin.lower, decimals: 3) + "–" + DecimalText.text(bin.upper, decimals: 3)
    }
}
