import FlowSpec
import Foundation
import Testing
@testable import Evaluation
import Report
import Training

/// A command's addition to a run ends as its plots and a report page that shows them.
struct RunReportTests {
    @Test func tunedThresholdsGetTheirPlotAndTheReportShowsIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("run-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        let run = RunDirectory(url: url)
        let flow = try ReportPageTests.flow(tasks: 1)
        let entry = Thresholds.Entry(threshold: 0.5, metric: "f1", before: 0.5, after: 0.6, rows: 4)
        let tuned = [ThresholdTuning.Tuned(path: "t0", label: nil, entry: entry, scores: [0.2, 0.4, 0.6, 0.8],
                                           labels: [0, 1, 0, 1])]
        try RunReport.refresh(run, flow: flow, after: .thresholds(tuned, objective: .f1, split: "valid"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.path("plots")) == ["threshold-t0.svg"])
        let page = try String(contentsOfFile: run.path("report.html"), encoding: .utf8)
        #expect(page.contains("t0: f1 by threshold"), "the page inlines the plot")
    }
}
