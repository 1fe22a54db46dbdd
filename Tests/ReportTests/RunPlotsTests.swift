import Foundation
import Tasks
import Testing
@testable import Evaluation
@testable import Report
import Training

/// Plot files: one per tuned decision even when label names sanitise alike, and a new eval's
/// plots do not mix with an earlier one's; the metric by threshold is drawn as the step
/// function it is, with the tuned point on it.
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

    @Test func metricByThresholdIsDrawnAsStepsWithTheTunedPointOnThem() throws {
        let run = try temporaryRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        // F1 decoding with score ≥ t: 2/3 for t ≤ 0.2 (everything positive), 0.8 on (0.2, 0.4],
        // 1/2 on (0.4, 0.6], 2/3 on (0.6, 0.8], 0 above 0.8 (nothing positive).
        let scores: [Float] = [0.8, 0.2, 0.6, 0.4], labels: [Float] = [1, 0, 0, 1]
        let choice = try #require(BestThreshold.tune(scores: scores, labels: labels, objective: .f1))
        #expect(abs(choice.value - 0.8) < 1e-12 && choice.threshold > 0.2 && choice.threshold <= 0.4)
        let entry = Thresholds.Entry(threshold: choice.threshold, metric: "f1", before: 0.5, after: choice.value, rows: 4)
        try RunPlots.writeThresholds([ThresholdTuning.Tuned(path: "m", label: nil, entry: entry, scores: scores,
                                                            labels: labels)],
                                     objective: .f1, split: "valid", run: run)
        let document = try #require(SVGDocument.parse(String(contentsOfFile: run.path("plots/threshold-m.svg"),
                                                             encoding: .utf8)))
        let steps = try #require(document.named("polyline").first).points()
        try #require(steps.count == 10, "\(steps)")
        for (a, b) in zip(steps, steps.dropFirst()) {
            #expect(a.x == b.x || a.y == b.y, "a sloped segment from \(a) to \(b)")
        }
        // Back in data units (x spans 0…1; y from the 0 and 0.8 steps); a pixel is under 0.01.
        let left = steps[0].x, width = steps[9].x - steps[0].x
        let zero = steps[8].y, perUnit = (steps[8].y - steps[2].y) / 0.8
        let corners = steps.map { (x: ($0.x - left) / width, y: (zero - $0.y) / perUnit) }
        let expected: [(x: Double, y: Double)] = [(0, 2.0 / 3), (0.2, 2.0 / 3), (0.2, 0.8), (0.4, 0.8), (0.4, 0.5),
                                                  (0.6, 0.5), (0.6, 2.0 / 3), (0.8, 2.0 / 3), (0.8, 0), (1, 0)]
        for (corner, wanted) in zip(corners, expected) {
            #expect(abs(corner.x - wanted.x) < 0.01 && abs(corner.y - wanted.y) < 0.01, "\(corner) for \(wanted)")
        }
        // The tuned threshold's dot sits on the 0.8 step, in the same coordinates as the steps.
        let dot = try #require(document.named("circle").first)
        let (cx, cy) = (try dot.number("cx"), try dot.number("cy"))
        #expect(abs(cy - steps[2].y) < 0.01 && cx > steps[2].x && cx <= steps[3].x, "dot at \(cx), \(cy)")
    }

    @Test func stepsBreakWhereTheMetricIsUndefined() {
        // Precision ≥ 0.6 holds at 0.4 (2/3, recall 1) and 0.8 (1, recall 1/2) only.
        let scores: [Float] = [0.2, 0.4, 0.6, 0.8], labels: [Float] = [0, 1, 0, 1]
        let curve = BinaryCurves.metricByThreshold(scores: scores, labels: labels, objective: .recallAtPrecision(0.6))
        let steps = ThresholdSteps.points(curve, scores: scores, lower: 0, upper: 1)
        let f = { (value: Float) in Double(value) }
        #expect(steps.count == 5 && steps[2].x.isNaN && steps[2].y.isNaN)
        #expect(steps[0] == (f(0.2), 1) && steps[1] == (f(0.4), 1))
        #expect(steps[3] == (f(0.6), 0.5) && steps[4] == (f(0.8), 0.5))
    }
}
