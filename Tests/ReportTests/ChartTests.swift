import Foundation
import FoundationXML
import Testing
@testable import Report

/// Every chart is well-formed XML whatever the data (hostile names, non-finite points, nothing
/// to draw), with round ticks, and shows what it promises: the diagonal, the marker, a legend,
/// counts with readable text.
struct ChartTests {
    static let hostile = "a<b & \"c\" 'd'\u{1}\u{7}"
    /// What a reader sees of `hostile`: the markup characters intact, control characters gone.
    static let hostileShown = "a<b & \"c\" 'd'"

    @Test func lineChartWithHostileNamesAndNonFinitePoints() throws {
        let series = [LineChart.Series(name: Self.hostile, points: [(0, 1), (1, .nan), (2, 0.5), (.infinity, 3),
                                                                     (3, -.infinity), (4, 0.25), (5, 0.2)]),
                      LineChart.Series(name: "validation]]>", points: [(0, 1.2), (5, 0.4)], dashed: true)]
        let chart = LineChart(title: Self.hostile, xLabel: Self.hostile, yLabel: Self.hostile, series: series,
                              marker: LineChart.Marker(x: 2, label: Self.hostile))
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.elements.first?.name == "svg")
        // Title, both axis titles, the legend entry and the marker label.
        #expect(document.texts.filter { $0 == Self.hostileShown }.count == 5)
        #expect(document.texts.contains("validation]]>"))
        document.expectFiniteGeometry()
        // The NaN and the infinities break the first line into (0,1), (2,0.5) and (4,0.25)–(5,0.2):
        // two lone dots and one line, and the second series is one more line.
        #expect(document.named("circle").count == 2)
        #expect(document.named("polyline").count == 2)
    }

    @Test(arguments: [[], [LineChart.Series(name: "empty", points: [])],
                      [LineChart.Series(name: "nan", points: [(.nan, 1), (2, .infinity)])]])
    func nothingToDrawSaysNoData(_ series: [LineChart.Series]) throws {
        let chart = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss", series: series,
                              xRange: 0...1, yRange: 0...1, diagonal: true,
                              marker: LineChart.Marker(x: 0.5, label: "t"))
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.texts.contains("no data"))
        document.expectFiniteGeometry()
    }

    @Test func singlePointIsADotInsideTheAxes() throws {
        let chart = LineChart(title: "accuracy", xLabel: "epoch", yLabel: "accuracy",
                              series: [LineChart.Series(name: "train", points: [(1, 0.75)])])
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.named("circle").count == 1)
        #expect(document.named("polyline").isEmpty)
        // An integer x gets whole ticks around it; the constant y an axis around 0.75.
        #expect(document.xTickLabels == ["0", "1", "2"])
        let yTicks = document.yTickLabels.compactMap(Double.init)
        #expect(yTicks.count >= 2 && yTicks.count == document.yTickLabels.count)
        #expect((yTicks.min() ?? 1) < 0.75 && 0.75 < (yTicks.max() ?? 0))
        document.expectFiniteGeometry()
    }

    @Test func epochAxisShowsWholeEpochs() throws {
        let chart = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss",
                              series: [LineChart.Series(name: "train", points: [(1, 0.9), (2, 0.9), (3, 0.9)])])
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.xTickLabels == ["1", "2", "3"])
        #expect(document.named("polyline").count == 1)
    }

    @Test func rocChartHasDiagonalMarkerAndLegend() throws {
        let roc = [(0.0, 0.0), (0.0, 0.25), (0.25, 0.5), (0.75, 0.75), (0.75, 1.0), (1.0, 1.0)]
        let chart = LineChart(title: "ROC", xLabel: "false-positive rate", yLabel: "true-positive rate",
                              series: [LineChart.Series(name: "validation", points: roc.map { (x: $0.0, y: $0.1) }),
                                       LineChart.Series(name: "train", points: [(0, 0), (1, 1)], dashed: true)],
                              xRange: 0...1, yRange: 0...1, diagonal: true,
                              marker: LineChart.Marker(x: 0.25, label: "threshold 0.42"))
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.xTickLabels == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        #expect(document.yTickLabels == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        // The diagonal runs from the plot's bottom-left to its top-right corner (plot coordinates,
        // the axes' ends inset from the frame).
        let diagonal = try #require(document.named("line").first { $0.attributes["stroke-dasharray"] == "4 4" })
        let (x1, y1, x2, y2) = try diagonal.line()
        #expect(x1 == LineChart.dataInset && y1 > 100 && x2 > 100 && y2 == LineChart.dataInset)
        let marker = try #require(document.named("line").first { $0.attributes["stroke-dasharray"] == "3 3" })
        let (mx1, _, mx2, _) = try marker.line()
        #expect(mx1 == mx2)
        #expect(document.texts.contains("threshold 0.42"))
        // Legend: both names as text, the dashed series with a dashed swatch.
        #expect(document.texts.contains("validation") && document.texts.contains("train"))
        #expect(document.named("line").contains { $0.attributes["stroke-dasharray"] == "6 4" })
        document.expectFiniteGeometry()
    }

    @Test func perfectCurvesStayVisibleInsideTheFrame() throws {
        // A perfect classifier: the ROC curve runs up the left edge and along the top, the
        // precision–recall curve along the top and down the right edge.
        for points in [[(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)], [(0.0, 1.0), (1.0, 1.0), (1.0, 0.0)]] {
            let chart = LineChart(title: "perfect", xLabel: "x", yLabel: "y",
                                  series: [LineChart.Series(name: "curve", points: points.map { (x: $0.0, y: $0.1) })],
                                  xRange: 0...1, yRange: 0...1)
            let document = try #require(SVGDocument.parse(chart.svg()))
            let frame = try #require(document.named("rect").first { $0.attributes["stroke"] == "#888888" })
            let curve = try #require(document.named("polyline").first)
            // Drawn over the frame, and a few pixels inside it (plot coordinates start at the frame's corner).
            #expect(frame.index < curve.index)
            let (width, height) = (try frame.number("width"), try frame.number("height"))
            for point in try curve.points() {
                #expect(min(point.x, width - point.x) >= 3 && min(point.y, height - point.y) >= 3, "\(point)")
            }
        }
    }

    @Test func oneSeriesHasNoLegend() throws {
        let chart = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss",
                              series: [LineChart.Series(name: "train-only", points: [(1, 2), (2, 1)])])
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(!document.texts.contains("train-only"))
    }

    @Test func longCurvesAreThinnedToThePixel() throws {
        var points: [(x: Double, y: Double)] = []
        for i in 0...100_000 {
            let x = Double(i) / 100_000
            points.append((x, x.squareRoot()))
        }
        let chart = LineChart(title: "ROC", xLabel: "fpr", yLabel: "tpr",
                              series: [LineChart.Series(name: "roc", points: points)], xRange: 0...1, yRange: 0...1)
        let document = try #require(SVGDocument.parse(chart.svg()))
        let polyline = try #require(document.named("polyline").first)
        let drawn = try polyline.points()
        // The plot is about 400 × 230 pixels: a monotone curve needs at most one point per half pixel of travel.
        #expect(drawn.count > 100 && drawn.count < 2_000, "\(drawn.count) points")
        // Inside the plot, (0, 0) is the bottom-left corner and (1, 1) the top-right one.
        #expect(drawn.first?.x == LineChart.dataInset && drawn.last?.y == LineChart.dataInset)
    }

    @Test func longTitlesAreCutAtTheStartSoThatTheLabelStaysVisible() throws {
        let path = "person_regression.face_regression.facial_characteristics"
        for label in ["hat", "glasses"] {
            let title = "\(path) [\(label)]: f1_score by threshold (valid, 1234 rows)"
            let chart = LineChart(title: title, xLabel: "threshold", yLabel: "f1_score",
                                  series: [LineChart.Series(name: "f1_score", points: [(0, 0.5), (1, 0)])], xRange: 0...1)
            let document = try #require(SVGDocument.parse(chart.svg()))
            let heading = try #require(document.named("text").first { $0.attributes["font-weight"] == "bold" })
            // 464 pixels at 13 pixels × 0.6 per character: 59 characters.
            #expect(heading.text.hasPrefix("…") && heading.text.count == 59, "\(heading.text)")
            #expect(title.hasSuffix(heading.text.dropFirst()) && heading.text.contains("[\(label)]"))
            // The whole title stays the chart's name for screen readers and tooltips.
            #expect(document.named("title").first?.text == title)
        }
    }

    @Test func ticksAreOneTwoOrFiveTimesAPowerOfTen() {
        let rates = AxisTicks(within: 0...1, count: 5)
        #expect(rates.values.map(rates.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
        let loss = AxisTicks(covering: 0.23, 1.87, count: 5, integers: false)
        #expect(loss.step == 0.5 && loss.lower == 0 && loss.upper == 2)
        #expect(loss.values.map(loss.label) == ["0", "0.5", "1", "1.5", "2"])
        let small = AxisTicks(covering: 0.0012, 0.0031, count: 5, integers: false)
        #expect(small.values.map(small.label) == ["0.001", "0.0015", "0.002", "0.0025", "0.003", "0.0035"])
        let epochs = AxisTicks(covering: 1, 30, count: 5, integers: true)
        #expect(epochs.values == [0, 5, 10, 15, 20, 25, 30])
        let constant = AxisTicks(covering: -2, -2, count: 5, integers: false)
        #expect(constant.lower < -2 && constant.upper > -2 && constant.values.count >= 2)
        let huge = AxisTicks(covering: -.greatestFiniteMagnitude, .greatestFiniteMagnitude, count: 5,
                             integers: false)
        #expect(huge.lower.isFinite && huge.upper.isFinite && !huge.values.isEmpty)
    }

    @Test func decimalTextIsShortAndExact() {
        #expect(DecimalText.text(0.1 + 0.2, decimals: 2) == "0.3")
        #expect(DecimalText.text(-0.001, decimals: 2) == "0")
        #expect(DecimalText.text(-0.25, decimals: 2) == "-0.25")
        #expect(DecimalText.text(12, decimals: 0) == "12")
        #expect(DecimalText.text(0.05, decimals: 2) == "0.05")
        #expect(DecimalText.text(1e20, decimals: 2) == "1e+20")
        #expect(SVGCanvas.number(.nan) == "0" && SVGCanvas.number(1e300) == "1000000")
    }

    @Test func confusionMatrixWithHostileAndLongNames() throws {
        let long = "a-class-name-far-too-long-for-its-column"
        let chart = ConfusionMatrixChart(title: Self.hostile, classNames: [Self.hostile, long, "c"],
                                         counts: [[50, 0, 0], [5, 3, 2], [0, 0, 0]])
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.texts.contains("predicted") && document.texts.contains("actual"))
        #expect(document.texts.contains(Self.hostileShown))
        // The long name is cut with an ellipsis on both axes, the full name in its tooltip.
        let cut = document.named("text").filter { $0.text.hasSuffix("…") }
        #expect(cut.count == 2)
        for label in cut {
            #expect(label.text.count == 16 && long.hasPrefix(String(label.text.dropLast())))
            #expect(document.children(of: label).contains { $0.name == "title" && $0.text == long })
        }
        // One count per cell; the full row is darkest with white text, the empty row blank.
        let cells = document.named("rect").filter { $0.attributes["stroke"] == "#ffffff" }
        #expect(cells.count == 9)
        let counts = document.named("text").filter { $0.attributes["font-size"] != nil && Int($0.text) != nil }
        #expect(counts.map(\.text) == ["50", "0", "0", "5", "3", "2", "0", "0", "0"])
        #expect(counts[0].attributes["fill"] == "#ffffff" && counts[1].attributes["fill"] == "#000000")
        #expect(cells[0].attributes["fill"] == "#08306b" && cells[1].attributes["fill"] == "#ffffff")
        #expect(cells[8].attributes["fill"] == "#ffffff")
        // Row-normalised: 5 of 10 in row two is shaded like half, darker than 3 of 10.
        #expect(cells[3].attributes["fill"] == ChartPalette.heat(0.5).fill)
        document.expectFiniteGeometry()
    }

    @Test func raggedAndEmptyMatricesStillDraw() throws {
        let ragged = ConfusionMatrixChart(title: "t", classNames: ["x"], counts: [[1, 2], [3]])
        let document = try #require(SVGDocument.parse(ragged.svg()))
        #expect(document.named("rect").filter { $0.attributes["stroke"] == "#ffffff" }.count == 4)
        let empty = ConfusionMatrixChart(title: "t", classNames: [], counts: [])
        #expect(try #require(SVGDocument.parse(empty.svg())).texts.contains("no data"))
        var many: [[Int]] = []
        for i in 0..<60 { many.append((0..<60).map { $0 == i ? 123_456 : $0 }) }
        let big = ConfusionMatrixChart(title: "t", classNames: (0..<60).map { "class \($0)" }, counts: many)
        try #require(SVGDocument.parse(big.svg())).expectFiniteGeometry()
    }
}

/// An SVG read back with Foundation's XML parser: `parse` fails on anything not well-formed.
final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
        var parent: Int?
        var index: Int

        func number(_ key: String) throws -> Double {
            try #require(attributes[key].flatMap(Double.init), "\(name) \(key) = \(attributes[key] ?? "nil")")
        }

        func line() throws -> (Double, Double, Double, Double) {
            (try number("x1"), try number("y1"), try number("x2"), try number("y2"))
        }

        func points() throws -> [(x: Double, y: Double)] {
            var points: [(x: Double, y: Double)] = []
            for pair in (attributes["points"] ?? "").split(separator: " ") {
                let parts = pair.split(separator: ",").compactMap { Double($0) }
                try #require(parts.count == 2, "point \(pair)")
                points.append((parts[0], parts[1]))
            }
            return points
        }
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    static func parse(_ svg: String) -> SVGDocument? {
        let parser = XMLParser(data: Data(svg.utf8))
        let document = SVGDocument()
        parser.delegate = document
        return parser.parse() ? document : nil
    }

    func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    func children(of element: Element) -> [Element] { elements.filter { $0.parent == element.index } }
    var texts: [String] { named("text").map(\.text) }
    var xTickLabels: [String] { tickLabels(anchor: "middle") }
    var yTickLabels: [String] { tickLabels(anchor: "end") }

    private func tickLabels(anchor: String) -> [String] {
        // Tick labels are the grey texts; x ticks are centred under their line, y ticks end before it.
        named("text").filter { $0.attributes["fill"] == "#555555" && $0.attributes["text-anchor"] == anchor }
            .map(\.text)
    }

    /// Every coordinate and length is a finite number.
    func expectFiniteGeometry() {
        for element in elements {
            for key in ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height"] {
                if let value = element.attributes[key] {
                    #expect(Double(value)?.isFinite == true, "\(element.name) \(key)=\(value)")
                }
            }
            if element.name == "polyline" {
                #expect((try? element.points())?.allSatisfy { $0.x.isFinite && $0.y.isFinite } == true)
            }
        }
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append(Element(name: elementName, attributes: attributeDict, parent: open.last, index: elements.count))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let current = open.last { elements[current].text += string }
    }
}
