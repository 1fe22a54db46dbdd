import Foundation
import Tasks
import Testing
@testable import Report

/// The reliability diagram: a dot per filled bin at (mean confidence, accuracy), the diagonal,
/// a count bar per filled bin and series, a legend entry per series; well-formed whatever the
/// names.
struct ReliabilityChartTests {
    static func bins(_ filled: [Int: (count: Int, confidence: Double, accuracy: Double)]) -> [CalibrationMetrics.Bin] {
        (0..<CalibrationMetrics.binCount).map { b in
            let bin = filled[b]
            return CalibrationMetrics.Bin(lower: Double(b) / 15, upper: Double(b + 1) / 15, count: bin?.count ?? 0,
                                          confidence: bin?.confidence ?? .nan, accuracy: bin?.accuracy ?? .nan)
        }
    }

    @Test func dotsDiagonalCountsAndLegend() throws {
        let raw = Self.bins([7: (40, 0.5, 0.25), 13: (900, 0.9, 0.8), 0: (2, 0.01, 0)])
        let calibrated = Self.bins([6: (30, 0.43, 0.3)])
        let chart = ReliabilityChart(title: ChartTests.hostile, yLabel: "fraction positive",
                                     series: [.init(name: "uncalibrated, ECE 0.1000", bins: raw, dashed: true),
                                              .init(name: ChartTests.hostile, bins: calibrated)])
        let document = try #require(SVGDocument.parse(chart.svg()))
        document.expectFiniteGeometry()
        // One dot per filled bin; the plot spans x 58…424 and y 270 (0) … 30 (1).
        let dots = try document.named("circle").map { (try $0.number("cx"), try $0.number("cy")) }
        #expect(dots.count == 4)
        #expect(dots.contains { abs($0.0 - (58 + 0.5 * 366)) < 0.01 && abs($0.1 - (270 - 0.25 * 240)) < 0.01 })
        // A line joins the three filled bins of the first series; the lone bin of the second is a dot.
        #expect(document.named("polyline").count == 1)
        #expect(try document.named("polyline")[0].points().count == 3)
        // The diagonal from (0, 0) to (1, 1).
        let lines = try document.named("line").map { try $0.line() }
        #expect(lines.contains { $0 == (58, 270, 424, 30) })
        // Count bars: a rect per filled bin per series, the fullest bin's count at the side.
        let bars = document.named("rect").filter { $0.attributes["fill"]?.hasPrefix("#") == true && $0.attributes["fill"] != "#ffffff" }
        #expect(bars.count == 4)
        #expect(document.texts.contains("900"))
        #expect(document.texts.contains("uncalibrated, ECE 0.1000") && document.texts.contains(ChartTests.hostileShown))
    }

    @Test func emptyBinsStillDraw() throws {
        let chart = ReliabilityChart(title: "t", yLabel: "accuracy", series: [.init(name: "none", bins: Self.bins([:])),
                                                                             .init(name: "diverged", bins: [])])
        let document = try #require(SVGDocument.parse(chart.svg()))
        document.expectFiniteGeometry()
        #expect(document.named("circle").isEmpty && document.named("polyline").isEmpty)
    }
}
