import FlowSpec
import Foundation
import Testing
@testable import Report
import Training

/// report.html's plot sections and its best-and-worst-samples section, built from the files
/// a run directory holds.
struct ReportPageTests {
    func temporaryRun() throws -> RunDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return RunDirectory(url: url)
    }

    /// A flow of `count` binary tasks named so that the file's order is not the alphabetical one
    /// (`t9` before `t10` before `t1`), then a nested flow whose path starts like a top task's.
    static func flow(tasks count: Int) throws -> ResolvedFlow {
        let tasks = (0..<count).map { "  t\(count - 1 - $0): {type: binary}" }.joined(separator: "\n")
        return try FlowLoader.load(bytes: Array("""
            name: many
            data: {train: t.csv}
            inputs:
              x: {type: numeric, columns: [a]}
            trunk:
              body: {from: x, layers: [dense: 4, relu]}
            flow:
            \(tasks)
              t1_group:
                flow:
                  inner: {type: multilabel, labels: [p, q]}
            """.utf8), file: "t.yaml")
    }

    @Test func plotsOfManyTasksFollowTheFlowWithinEachKind() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let count = 300
        let flow = try Self.flow(tasks: count)
        var expected: [String] = []
        for (kind, _) in ReportPage.plotSections {
            expected += (0..<count).reversed().map { "\(kind)-t\($0)" }
            // The multilabel task's thresholds are one plot per label, in the tuner's order.
            expected += kind == "threshold" ? ["threshold-t1_group.inner-0-q", "threshold-t1_group.inner-1-p"]
                                            : ["\(kind)-t1_group.inner"]
        }
        // Plain writes: the run's own (synced) writes would make this test wait on the disk.
        try FileManager.default.createDirectory(atPath: run.path("plots"), withIntermediateDirectories: true)
        for name in expected.shuffled() {
            try Data("<svg><title>\(name)</title></svg>".utf8).write(to: URL(fileURLWithPath: run.path("plots/\(name).svg")))
        }
        let html = ReportPage.plots(run, flow: flow)
        let shown = html.components(separatedBy: "<figure><svg><title>").dropFirst()
            .map { String($0.prefix { $0 != "<" }) }
        #expect(shown == expected)
    }

    @Test func contactSheetsAreShownInThePageAndTablesLinked() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        #expect(ReportPage.interpretation(run).isEmpty)
        for file in ["b.csv", "a.b.csv", "a.b-best.png", "a.b-worst.png"] {
            try run.write("interpretation/\(file)", Data(), createDirectory: true)
        }
        let html = ReportPage.interpretation(run)
        #expect(html.contains("<a href=\"interpretation/a.b.csv\">a.b.csv</a> · <a href=\"interpretation/b.csv\">b.csv</a>"))
        // Images by relative path, worst first; a task without an image input (b) has none.
        let images = html.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(images == ["interpretation/a.b-worst.png", "interpretation/a.b-best.png"])
        #expect(!html.contains("href=\"interpretation/a.b-worst.png\""))
    }
}
