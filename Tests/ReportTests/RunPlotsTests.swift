import Foundation
import Tasks
import Testing
@testable import Evaluation
@testable import Report
import Training

/// Plot files: one per tuned decision even when label names sanitise alike, and a new eval's
/// plots do not mix with an earlier one's.
struct RunPlotsTests {
    func temporaryRun() throws -> RunDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return RunDirectory(url: url)
    }

    @Test func labelsThatSanitiseAlikeGetTheirOwnFiles() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let entry = Thresholds.Entry(threshold: 0.5, metric: "f1", before: 0.5, after: 0.6, rows: 4)
        let tuned = ["x y", "x;y", "x_y"].map { label in
            ThresholdTuning.Tuned(path: "m", label: label, entry: entry, scores: [0.2, 0.4, 0.6, 0.8], labels: [0, 1, 0, 1])
        }
        try RunPlots.writeThresholds(tuned, objective: .f1, split: "valid", run: run)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path("plots")).sorted()
        #expect(files == ["threshold-m-0-x_y.svg", "threshold-m-1-x_y.svg", "threshold-m-2-x_y.svg"])
    }

    @Test func anEarlierCommandsPlotsOfTheSameKindsGo() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        for name in ["roc-a.svg", "pr-a.svg", "confusion-b.svg", "learning-loss-a.svg", "threshold-a.svg"] {
            try run.write("plots/\(name)", Data("<svg/>".utf8), createDirectory: true)
        }
        RunPlots.removePlots(["confusion", "roc", "pr"], run)
        let files = try FileManager.default.contentsOfDirectory(atPath: run.path("plots")).sorted()
        #expect(files == ["learning-loss-a.svg", "threshold-a.svg"])
    }
}
