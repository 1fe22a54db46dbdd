import Foundation
import Testing
@testable import Report

/// The charts of search.html: well-formed whatever the data, each point and line where its
/// scale puts it.
struct SearchChartTests {
    @Test func scatterOnCategoriesDrawsEveryFinitePointAndRingsTheHighlighted() throws {
        let points = [ScatterChart.Point(x: 0, y: 1.5, group: 0, label: "trial 1"),
                      ScatterChart.Point(x: 2, y: 1.2, group: 1, label: ChartTests.hostile),
                      ScatterChart.Point(x: 1, y: .nan, label: "failed"),
                      ScatterChart.Point(x: 7, y: 1, label: "not a category")]
        let chart = ScatterChart(title: ChartTests.hostile, xLabel: "balancer", yLabel: "valid.loss",
                                 xScale: .categories(["fixed", "dwa", "{name: gradnorm, alpha: 1}"]),
                                 groups: ["after 1 epoch", "after 3 epochs"], points: points, highlighted: 1)
        let document = try #require(SVGDocument.parse(chart.svg()))
        document.expectFiniteGeometry()
        // Two dots, the ring around the second, and the two legend dots.
        #expect(document.named("circle").count == 5)
        #expect(document.named("circle").filter { $0.attributes["r"] == "7" }.count == 1)
        #expect(document.xTickLabels.prefix(2) == ["fixed", "dwa"])
        #expect(document.texts.contains("after 3 epochs"))
    }

    @Test func scatterOnALogScaleTicksPowersOfTen() throws {
        let chart = ScatterChart(title: "lr", xLabel: "lr", yLabel: "loss", xScale: .log, groups: ["a"],
                                 points: [1e-4, 3e-3, 3e-2, -1].map { ScatterChart.Point(x: $0, y: 1, label: "\($0)") })
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.xTickLabels == ["0.0001", "0.001", "0.01", "0.1"])
        // The negative value has no place on a log axis.
        #expect(document.named("circle").count == 3)
        let xs = try document.named("circle").map { try $0.number("cx") }
        #expect(xs == xs.sorted())
    }

    @Test func nothingToScatterSaysNoData() throws {
        let chart = ScatterChart(title: "lr", xLabel: "lr", yLabel: "loss", xScale: .linear, groups: [], points: [])
        let document = try #require(SVGDocument.parse(chart.svg()))
        #expect(document.texts.contains("no data"))
        document.expectFiniteGeometry()
    }

    @Test func parallelCoordinatesBreakALineWhereAValueIsMissing() throws {
        let chart = ParallelCoordinatesChart(
            title: "trials",
            dimensions: [.init(name: "lr", scale: .log), .init(name: ChartTests.hostile, scale: .categories(["64", "128"])),
                         .init(name: "valid.loss", scale: .linear)],
            lines: [.init(values: [1e-3, 0, 1.45], shade: 1, label: "best"),
                    .init(values: [1e-2, 1, 1.6], shade: 0, label: "worst"),
                    .init(values: [3e-3, .nan, 1.5], shade: nil, label: "stopped")])
        let document = try #require(SVGDocument.parse(chart.svg()))
        document.expectFiniteGeometry()
        // Two whole lines; the third breaks at its missing value into two single points, which draw nothing.
        #expect(document.named("polyline").count == 2)
        #expect(try document.named("polyline").allSatisfy { try $0.points().count == 3 })
        // The unshaded line is drawn first, under the others, and the best last, on top.
        #expect(document.named("g").compactMap { $0.attributes["stroke"] } == ["#d0d0d0", ChartPalette.heat(0.25).fill,
                                                                               ChartPalette.heat(1).fill])
        #expect(document.texts.contains(ChartTests.hostileShown))
    }
}
