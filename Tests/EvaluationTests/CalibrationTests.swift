import Engine
import FlowSpec
import Foundation
import Tasks
import Testing
@testable import Evaluation
@testable import Training

/// `calibration.yaml` written and read back, its bad entries as located errors, and the fit on
/// exactly the rows where each task counts.
struct CalibrationTests {
    static let sample = Calibration(split: "valid", tasks: [
        ("door_open", .init(temperature: 1.3172, rows: 812, nllBefore: 0.25, nllAfter: 0.2312, eceBefore: 0.05,
                            eceAfter: 0.01)),
        ("a.faces: \"odd\"", .init(temperature: 1e-05, rows: 40, nllBefore: 0.5, nllAfter: 0.125)),
        ("shirt", .init(temperature: 1, rows: 0, note: "no rows with a label and a true precondition: T stays 1")),
    ])

    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let types: [String: TaskType] = ["cancelled": .binary, "reason": .classification, "tags": .multilabel,
                                            "delay": .regression, "rating": .boundedRegression]

    @Test func roundTripsThroughTheFile() throws {
        let yaml = Self.sample.yaml()
        let path = try Self.file(yaml)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Calibration.read(path: path) == Self.sample)
        #expect(yaml.contains("  \"door_open\": {temperature: 1.3172, rows: 812, nll_before: 0.25, nll_after: 0.2312, "
                              + "ece_before: 0.05, ece_after: 0.01}\n"))
        // A float in every YAML reader's eyes; absent numbers are left out, not written as NaN.
        #expect(yaml.contains("temperature: 1.0e-05, rows: 40, nll_before: 0.5, nll_after: 0.125}"))
        #expect(yaml.contains("\"shirt\": {temperature: 1.0, rows: 0, note: \"no rows"))
        #expect(try Calibration.read(path: path + ".absent") == nil)
        #expect(Self.sample.temperature(for: "door_open") == 1.3172 && Self.sample.temperature(for: "other") == 1)
    }

    /// Entries that cannot apply are errors at their line and column, not tasks silently left
    /// uncalibrated.
    @Test(arguments: [
        ("tasks:\n  cancelld: {temperature: 1.2}\n", "2:3: 'cancelld' is not a task of this run (did you mean 'cancelled'?)"),
        ("tasks:\n  delay: {temperature: 1.2}\n",
         "2:3: 'delay' is a regression task: only binary, multilabel and classification tasks are calibrated"),
        ("tasks:\n  rating: {temperature: 1.2}\n",
         "2:3: 'rating' is a bounded_regression task: only binary, multilabel and classification tasks are calibrated"),
        ("tasks:\n  cancelled: {temperature: 0}\n", "2:28: temperature 0 must be a finite number above 0: the logits are divided by it"),
        ("tasks:\n  cancelled: {temperature: -1.5}\n", "2:28: temperature -1.5 must be a finite number above 0: the logits are divided by it"),
        ("tasks:\n  cancelled: {temperature: inf}\n", "2:28: temperature inf must be a finite number above 0: the logits are divided by it"),
        ("tasks:\n  cancelled: {temperature: high}\n", "2:28: 'temperature' must be a number, found 'high'"),
        ("tasks:\n  cancelled: {temperature: \"2\"}\n", "2:28: 'temperature' must be a number, found '2'"),
        ("tasks:\n  cancelled: {temprature: 1.2}\n", "2:15: unknown key 'temprature' (did you mean 'temperature'?)"),
        ("tasks:\n  cancelled: {rows: 3}\n", "2:14: 'cancelled' needs 'temperature:' with a number above 0"),
        ("tasks:\n  cancelled: {temperature: 1.2, rows: -3}\n", "2:39: 'rows' must be a whole number of rows, found '-3'"),
        ("tasks:\n  cancelled: 1.5\n", "2:14: expected a mapping with temperature:, found '1.5'"),
        ("tasks:\n  cancelled: {temperature: 1.2}\n  cancelled: {temperature: 1.3}\n", "3:3: 'cancelled' appears twice"),
        ("tasks: [cancelled]\n", "1:8: expected a mapping of task paths, found a list"),
        ("split: valid\ntask: {}\n", "2:1: unknown key 'task' (did you mean 'tasks'?)"),
        ("tasks: {cancelled: {temperature: [1.2\n", "2:1: YAML syntax error"),
    ])
    func badEntriesAreLocatedErrors(_ text: String, _ expected: String) throws {
        let path = try Self.file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try Calibration.read(path: path, tasks: Self.types)
            Issue.record("no error for \(text)")
        } catch {
            #expect(error.description.hasPrefix("\(path):\(expected)"), "\(error.description)")
        }
    }

    @Test func everyCalibratedTypeReads() throws {
        let path = try Self.file("split: valid\ntasks:\n  cancelled: {temperature: 2}\n  reason: {temperature: 0.5}\n"
                                 + "  tags: {temperature: 1.25, rows: 10, note: \"ok\"}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let calibration = try #require(try Calibration.read(path: path, tasks: Self.types))
        #expect(calibration.tasks.map(\.path) == ["cancelled", "reason", "tags"])
        #expect(calibration.tasks.map(\.entry.temperature) == [2, 0.5, 1.25])
        #expect(calibration.tasks[2].entry.note == "ok" && calibration.tasks[2].entry.rows == 10)
    }

    /// `b` counts only where `a`'s label is true. Its logits on the other rows are wildly wrong
    /// (confident and inverted): they must not move its temperature, which is the fit on its
    /// own rows alone. Eight rows repeated 50 times: the same fit as on eight, with the evidence
    /// of 400 rows, so that no temperature is refused as a chance gain.
    @Test func fitsEachTaskOnItsOwnRows() throws {
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1]}
            flow:
              a: {type: binary}
              b: {type: binary, when: a}
              h: {type: multilabel, labels: [p, q], when: a}
              d: {type: regression}
            """.utf8), file: "t.yaml")
        let copies = 50, rows = 8 * copies
        func tiled(_ block: [Float]) -> [Float] { (0..<copies).flatMap { _ in block } }
        let aLabels = tiled([1, 1, 1, 1, 0, 0, 0, 0]), bLabels = tiled([1, 0, 1, 0, 1, 0, 1, 0])
        let aLogits = tiled([3, 2, -1, 4, -3, -2, 1, -4])
        let bLogits = tiled([0.5, -0.2, 0.1, 0.3, -9, 9, -9, 9])
        let hLabels = tiled((0..<8).flatMap { r -> [Float] in [Float(r % 2), Float((r / 2) % 2)] })
        let hLogits = tiled((0..<16).map { Float($0 % 5) - 2 })
        let values: [[Float?]] = [aLabels, bLabels, [Float](repeating: 0, count: rows), [Float](repeating: 0, count: rows)]
        let mask = PreconditionMask(tasks: flow.tasks, classes: [:])
        let counts = mask.counts(rows: rows) { t, r in values[t][r] }
        let own = (0..<rows).filter { aLabels[$0] == 1 }
        #expect(own.count == 200 && own.allSatisfy { counts[1][$0] } && !(0..<rows).contains { counts[1][$0] && aLabels[$0] == 0 })
        let outputs = flow.tasks.map { TaskOutput(type: $0.spec.type, classCount: $0.spec.classes?.value.count ?? 1) }
        let split = EncodedSplit(name: "valid", rows: rows, file: "v.csv", sourceRows: Array(0..<rows), inputs: [:],
                                 targets: [aLabels, bLabels, hLabels, [Float](repeating: 0, count: rows)],
                                 masks: outputs.map { [Float](repeating: 1, count: rows * $0.units) }, counts: counts,
                                 present: values.map { $0.map { $0 != nil } })
        let logits = [aLogits, bLogits, hLogits, [Float](repeating: 0, count: rows)]
        let splitOutputs = SplitOutputs(split: split, logits: logits, width: outputs.map(\.units),
                                        losses: logits.map { _ in [Float](repeating: .nan, count: rows) })
        let calibration = TemperatureScaling.calibrate(splitOutputs, tasks: flow.tasks,
                                                       decoders: outputs.map { TaskDecoder(output: $0) }, split: "valid")
        // The regression task is not calibrated; the others are, in the model's order.
        #expect(calibration.tasks.map(\.path) == ["a", "b", "h"])
        let ownB = TemperatureFit.fit(.binary, logits: own.map { bLogits[$0] }, labels: own.map { bLabels[$0] }, width: 1)
        let everywhere = TemperatureFit.fit(.binary, logits: bLogits, labels: bLabels, width: 1)
        #expect(calibration.tasks[1].entry.temperature == ownB.temperature && calibration.tasks[1].entry.rows == 200)
        #expect(ownB.temperature != everywhere.temperature && ownB.temperature != 1)
        let ownH = TemperatureFit.fit(.multilabel, logits: own.flatMap { [hLogits[2 * $0], hLogits[2 * $0 + 1]] },
                                      labels: own.flatMap { [hLabels[2 * $0], hLabels[2 * $0 + 1]] }, width: 2)
        #expect(calibration.tasks[2].entry.temperature == ownH.temperature && calibration.tasks[2].entry.rows == 200)
        #expect(ownH.temperature != 1)
        #expect(calibration.tasks[0].entry.rows == rows)
        // Before and after on those rows, as the file reports them.
        #expect(calibration.tasks[1].entry.nllBefore == ownB.nllBefore && calibration.tasks[1].entry.nllAfter == ownB.nllAfter)
    }

    /// One binary task `a` calibrated on `logits` and `labels` (every row counts).
    static func calibrateOne(logits: [Float], labels: [Float]) throws -> Calibration.Entry {
        let flow = try FlowLoader.load(bytes: Array("name: t\ndata: {train: train.csv}\ninputs:\n  x: {type: numeric, columns: [f1]}\nflow:\n  a: {type: binary}\n".utf8),
                                       file: "t.yaml")
        let rows = labels.count
        let split = EncodedSplit(name: "valid", rows: rows, file: "v.csv", sourceRows: Array(0..<rows), inputs: [:],
                                 targets: [labels], masks: [[Float](repeating: 1, count: rows)],
                                 counts: [[Bool](repeating: true, count: rows)], present: [[Bool](repeating: true, count: rows)])
        let outputs = SplitOutputs(split: split, logits: [logits], width: [1], losses: [[Float](repeating: .nan, count: rows)])
        let calibration = TemperatureScaling.calibrate(outputs, tasks: flow.tasks,
                                                       decoders: [TaskDecoder(output: TaskOutput(type: .binary, classCount: 1))],
                                                       split: "valid")
        return try #require(calibration.tasks.first?.entry)
    }

    /// Labels drawn from σ(z) itself: the model is calibrated, and the fitted T (a little off 1)
    /// gains less likelihood than chance would (2·N·ΔNLL below 3.84), so T stays 1 with a note.
    /// The same rows repeated 20 times give the same T with 20 times the evidence: kept.
    @Test func keepsOneWhereTheGainIsNoMoreThanChance() throws {
        var random = Random(seed: 7)
        var logits: [Float] = [], labels: [Float] = []
        for _ in 0..<2000 {
            let z = 2 * random.normal()
            logits.append(z)
            labels.append(random.uniform() < 1 / (1 + exp(-z)) ? 1 : 0)
        }
        let fit = TemperatureFit.fit(.binary, logits: logits, labels: labels, width: 1)
        let statistic = 2 * 2000 * (fit.nllBefore - fit.nllAfter)
        try #require(fit.temperature != 1 && statistic < TemperatureScaling.likelihoodRatioThreshold,
                     "T \(fit.temperature), statistic \(statistic)")
        let calibrated = try Self.calibrateOne(logits: logits, labels: labels)
        #expect(calibrated.temperature == 1 && calibrated.nllAfter == calibrated.nllBefore
                && calibrated.eceAfter == calibrated.eceBefore)
        #expect(calibrated.note?.hasPrefix(String(format: "T = %.4g lowered the NLL", Double(fit.temperature))) == true
                && calibrated.note?.contains("by no more than chance would on 2000 rows (likelihood ratio") == true
                && calibrated.note?.hasSuffix("< 3.84, χ² at 5%): the model reads as calibrated, T stays 1") == true,
                "\(calibrated.note ?? "")")
        let repeated = (0..<20).flatMap { _ in logits }, repeatedLabels = (0..<20).flatMap { _ in labels }
        let refit = TemperatureFit.fit(.binary, logits: repeated, labels: repeatedLabels, width: 1)
        try #require(20 * statistic >= TemperatureScaling.likelihoodRatioThreshold && abs(refit.temperature / fit.temperature - 1) < 1e-4)
        let kept = try Self.calibrateOne(logits: repeated, labels: repeatedLabels)
        #expect(kept.temperature == refit.temperature && kept.note == nil, "\(kept)")
    }

    /// Six rows where the likelihood's temperature (about 1.71) makes the binned error worse
    /// (0.346 → 0.390), repeated 100 times so that the gain is no chance: the fit is refused, T
    /// stays 1, and the note says why.
    @Test func keepsOneWhereTheFitWouldRaiseTheCalibrationError() throws {
        let block: [Float] = [-0.3, -0.9, -2.0, -1.4, -2.9, 2.4], blockLabels: [Float] = [1, 0, 1, 0, 0, 1]
        let logits = (0..<100).flatMap { _ in block }, labels = (0..<100).flatMap { _ in blockLabels }
        let fit = TemperatureFit.fit(.binary, logits: logits, labels: labels, width: 1)
        #expect(abs(fit.temperature - 1.712) < 0.01 && fit.nllAfter < fit.nllBefore)
        #expect(2 * 600 * (fit.nllBefore - fit.nllAfter) > TemperatureScaling.likelihoodRatioThreshold)
        let entry = try Self.calibrateOne(logits: logits, labels: labels)
        #expect(entry.temperature == 1 && entry.nllAfter == entry.nllBefore && entry.eceAfter == entry.eceBefore)
        #expect(abs(entry.eceBefore! - 0.3462387) < 1e-6)
        #expect(entry.note?.hasPrefix("T = 1.713 lowered the NLL") == true && entry.note?.hasSuffix("on these rows: T stays 1") == true,
                "\(entry.note ?? "")")
    }
}
