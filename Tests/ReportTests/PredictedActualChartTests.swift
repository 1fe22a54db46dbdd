import FlowSpec
import Foundation
import Tasks
import Testing
@testable import Evaluation
@testable import Report
@testable import Training

/// The predicted-against-actual plot of regression tasks: a dot per row against y = x, the
/// same dots for the same rows however many there are, and a plot per regression task from
/// `eval`, shown in report.html.
struct PredictedActualChartTests {
    /// Whether a dot is on the dashed diagonal (within a hundredth of a pixel's rounding), or
    /// above it (predicted higher than actual: smaller y on screen).
    static func side(of dot: SVGDocument.Element, _ diagonal: SVGDocument.Element) throws -> Double {
        let (x1, y1, x2, y2) = try diagonal.line()
        let (cx, cy) = (try dot.number("cx"), try dot.number("cy"))
        return y1 + (cx - x1) / (x2 - x1) * (y2 - y1) - cy
    }

    @Test func dotsSitOnOrOffTheDiagonalAsPredictionsMissTheLabels() throws {
        let chart = PredictedActualChart(title: "price", pairs: [(1, 1), (2, 3), (3, 2), (.nan, 1), (4, .infinity)])
        let document = try #require(SVGDocument.parse(chart.svg()))
        let diagonal = try #require(document.named("line").first { $0.attributes["stroke-dasharray"] == "4 4" })
        let dots = document.named("circle")
        try #require(dots.count == 3)
        #expect(abs(try Self.side(of: dots[0], diagonal)) < 0.02)
        #expect(try Self.side(of: dots[1], diagonal) > 10)
        #expect(try Self.side(of: dots[2], diagonal) < -10)
        #expect(document.texts.contains("actual") && document.texts.contains("predicted"))
        document.expectFiniteGeometry()
        let empty = PredictedActualChart(title: "price", pairs: [(.nan, 1)])
        #expect(try #require(SVGDocument.parse(empty.svg())).texts.contains("no data"))
    }

    @Test func manyRowsAreSubsampledTheSameWayEveryTime() throws {
        let pairs = (0..<5_001).map { (actual: Double($0), predicted: Double($0 % 97)) }
        let chart = PredictedActualChart(title: "price", pairs: pairs)
        let svg = chart.svg()
        #expect(svg == PredictedActualChart(title: "price", pairs: pairs).svg())
        let document = try #require(SVGDocument.parse(svg))
        // One row in three (rows 0, 3, …, 4998) keeps 1,667 dots, within the limit.
        #expect(document.named("circle").count == 1_667)
        #expect(document.texts.contains("1667 of 5001 rows drawn (one in 3)"))
    }

    @Test func evalPlotsEachRegressionTaskAndTheReportShowsIt() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: t.csv}
            inputs:
              x: {type: numeric, columns: [a]}
            trunk:
              body: {from: x, layers: [dense: 4, relu]}
            flow:
              price: {type: regression}
            """.utf8), file: "t.yaml")
        // Labels standardised with mean 10 and deviation 2: actual 10, 12, 8; predicted 11, 12, 8.
        let rows = 3
        let split = EncodedSplit(name: "test", rows: rows, file: "t.csv", sourceRows: [0, 1, 2], inputs: [:],
                                 targets: [[0, 1, -1]], masks: [[1, 1, 1]], counts: [[true, true, true]],
                                 present: [[true, true, true]])
        let outputs = SplitOutputs(split: split, logits: [[0.5, 1, -1]], width: [1],
                                   losses: [[Float](repeating: .nan, count: rows)])
        let decoder = TaskDecoder(output: TaskOutput(type: .regression, classCount: 1), mean: 10, deviation: 2)
        let predictions = SplitPredictions(outputs, decoders: [decoder], tasks: flow.tasks, classes: [:])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scatter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        let run = RunDirectory(url: url)

        try RunPlots.writeEvaluation(predictions, split: "test", run: run)
        let svg = try String(contentsOfFile: run.path("plots/predicted-actual-price.svg"), encoding: .utf8)
        let document = try #require(SVGDocument.parse(svg))
        #expect(document.named("title").first?.text == "price (test, 3 rows)")
        let diagonal = try #require(document.named("line").first { $0.attributes["stroke-dasharray"] == "4 4" })
        let dots = document.named("circle")
        try #require(dots.count == 3)
        let sides = try dots.map { try Self.side(of: $0, diagonal) }
        #expect(sides[0] > 10 && abs(sides[1]) < 0.02 && abs(sides[2]) < 0.02, "\(sides)")

        let html = ReportPage.plots(run, flow: flow)
        #expect(html.contains("<h2>Predicted against actual (ground-truth preconditions)</h2>"))
        #expect(html.contains("<title>price (test, 3 rows)</title>"))
    }
}
