import Foundation
import Testing
@testable import Report
import Training

/// The worst-samples heat map drawn from `worst_samples.csv`, and the diagnostics section of
/// report.html with its flags.
struct DiagnosticsReportTests {
    /// Task a of three epochs, two ranked a time: row 11 is ranked 1, 2, then out (mean rank
    /// (1 + 2 + 3) / 3 = 2); row 13 enters at epoch 2 (3, 1, 2: mean 2); row 10 at epoch 3 (mean
    /// 7/3); row 14 is ranked only at epoch 1 (mean 8/3). Task b has one row.
    static let csv = """
        epoch,task_path,rank,row,loss
        1,a,1,11,0.9
        1,a,2,14,0.9
        1,b,1,13,3.0
        2,a,1,13,0.8
        2,a,2,11,0.3
        2,a,,14,0.1
        2,b,1,13,1.0
        3,a,1,10,0.7
        3,a,2,13,0.6
        3,a,,11,0.1
        3,a,,14,
        3,b,1,13,0.5

        """

    func temporaryRun() throws -> RunDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnostics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return RunDirectory(url: url)
    }

    @Test func heatMapRowsAreTheTrackedSamplesByMeanRank() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try Self.csv.write(toFile: run.path(WorstSamplesLog.fileName), atomically: true, encoding: .utf8)
        let entries = WorstSamplesChart.read(path: run.path(WorstSamplesLog.fileName))
        #expect(entries.count == 12)
        #expect(entries[10] == WorstSamplesChart.Entry(epoch: 3, taskPath: "a", rank: nil, row: 14, loss: nil))
        try WorstSamplesChart.write(run)
        let svg = try String(contentsOfFile: run.path("worst_samples.svg"), encoding: .utf8)
        let document = try #require(SVGDocument.parse(svg))

        #expect(document.texts.filter { $0.hasPrefix("row ") } == ["row 11", "row 13", "row 10", "row 14", "row 13"])
        #expect(document.texts.contains("a") && document.texts.contains("b"))
        // A cell per tracked sample and epoch: 4 × 3 for a, 1 × 3 for b; grey before a sample
        // was first ranked (13 at epoch 1, 10 at epochs 1 and 2) and where it had no loss (14 at 3).
        let cells = document.named("rect").filter { $0.attributes["stroke"] == "#ffffff" }
        #expect(cells.count == 15)
        #expect(cells.filter { $0.attributes["fill"] == "#eeeeee" }.count == 4)
        // Row 11 at epoch 1 has a's highest loss: the darkest shade, its rank written in white.
        #expect(cells[0].attributes["fill"] == ChartPalette.heat(1).fill)
        let ranks = document.named("text").filter { $0.attributes["font-size"] == "9" }
        #expect(ranks.map(\.text) == ["1", "2", "1", "2", "1", "2", "1", "1", "1"])
        #expect(ranks[0].attributes["fill"] == "#ffffff")
        document.expectFiniteGeometry()

        #expect(try #require(SVGDocument.parse(WorstSamplesChart(entries: []).svg())).texts.contains("no data"))
    }

    @Test func diagnosticsSectionShowsTheLastEpochAndFlagsWhatLooksWrong() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        #expect(ReportPage.diagnostics(run).isEmpty)
        let csv = """
            epoch,layer,statistic,value
            1,trunk.b.0.dense,zero_fraction,0.5
            2,trunk.b.0.dense,activation_mean,0.25
            2,trunk.b.0.dense,zero_fraction,0.95
            2,trunk.b.0.dense,gradient_norm,0.125
            2,trunk.b.0.dense,weight_norm,3
            2,trunk.b.0.dense,update_ratio,0.001
            2,heads.a.out,zero_fraction,0
            2,heads.a.out,update_ratio,0.5

            """
        try csv.write(toFile: run.path(LayerStatistics.fileName), atomically: true, encoding: .utf8)
        try Self.csv.write(toFile: run.path(WorstSamplesLog.fileName), atomically: true, encoding: .utf8)
        try WorstSamplesChart.write(run)
        let html = ReportPage.diagnostics(run)
        #expect(html.contains("<h2>Training diagnostics — epoch 2</h2>"))
        #expect(html.contains("<tr class=\"flagged\"><td>trunk.b.0.dense</td><td class=\"num\">0.25</td><td class=\"num\">–</td>"
                              + "<td class=\"num\">0.95</td><td class=\"num\">0.125</td><td class=\"num\">3</td>"
                              + "<td class=\"num\">0.001</td><td class=\"flag\">dead ReLUs: 95% zeros</td></tr>"))
        #expect(html.contains("<td class=\"flag\">update too large</td>"))
        #expect(html.contains("Worst training samples by epoch") && html.contains("<svg"))

        #expect(ReportPage.flags(["zero_fraction": 0.2, "update_ratio": 1e-3, "gradient_norm": 1]).isEmpty)
        #expect(ReportPage.flags(["update_ratio": 1e-5, "gradient_norm": 0]) == ["no gradient", "update too small"])
        #expect(ReportPage.flags(["activation_mean": .nan]) == ["not finite"])
    }
}
