import Engine
import FlowSpec
import Foundation
import Testing
@testable import Tasks

/// The temperature fit against a brute-force search over a fine grid of log T, on seeded
/// random logits that are over-confident, about right and under-confident (T near what the
/// data's exact posterior implies); the likelihood
/// against hand computation; the cases where T stays 1.
struct TemperatureFitTests {
    /// Labels and logits z = k·u with u ~ N(±1, 1): k scales how confident the scores are.
    static func binary(rows: Int, k: Float, seed: UInt64) -> (logits: [Float], labels: [Float]) {
        var random = Random(seed: seed)
        var logits: [Float] = [], labels: [Float] = []
        for _ in 0..<rows {
            let y: Float = random.uniform() < 0.4 ? 1 : 0
            labels.append(y)
            logits.append(k * (random.normal() + (y == 1 ? 1 : -1)))
        }
        return (logits, labels)
    }

    /// Classification with `classes` classes: the label's logit raised by 1.5, all scaled by k.
    static func classification(rows: Int, classes: Int, k: Float, seed: UInt64) -> (logits: [Float], labels: [Float]) {
        var random = Random(seed: seed)
        var logits: [Float] = [], labels: [Float] = []
        for _ in 0..<rows {
            let y = min(Int(random.uniform() * Float(classes)), classes - 1)
            labels.append(Float(y))
            for c in 0..<classes { logits.append(k * (random.normal() + (c == y ? 1.5 : 0))) }
        }
        return (logits, labels)
    }

    /// The grid's best log T: 20,001 points over the searched range, a step of about 3e-4.
    static func gridSearch(_ type: TaskType, _ logits: [Float], _ labels: [Float], width: Int) -> (logT: Double, nll: Double, step: Double) {
        let low = log(TemperatureFit.range.lowerBound), high = log(TemperatureFit.range.upperBound)
        let points = 20_000
        let step = (high - low) / Double(points)
        var best = (logT: low, nll: Double.infinity)
        for i in 0...points {
            let logT = low + Double(i) * step
            let nll = TemperatureFit.negativeLogLikelihood(type, logits: logits, labels: labels, width: width,
                                                           temperature: exp(logT))
            if nll < best.nll { best = (logT, nll) }
        }
        return (best.logT, best.nll, step)
    }

    /// The fit finds the grid's minimum: its log T within one grid step of the grid's best
    /// (the likelihood is smooth, so the true minimum is within half a step of the grid's, and
    /// the fit's is exact to 1e-7 plus float32 rounding of T), and a likelihood no worse than
    /// the grid's best to 1e-12 relative.
    @Test(arguments: [(TaskType.binary, Float(4), UInt64(1)), (.binary, 1, 2), (.binary, 0.3, 3),
                      (.classification, 3, 4), (.classification, 0.5, 5), (.multilabel, 2.5, 6)])
    func matchesABruteForceSearch(_ type: TaskType, _ k: Float, _ seed: UInt64) {
        let width = type == .binary ? 1 : 4
        let (logits, labels) = type == .classification
            ? Self.classification(rows: 600, classes: width, k: k, seed: seed)
            : Self.binary(rows: 600 * width, k: k, seed: seed)
        let fit = TemperatureFit.fit(type, logits: logits, labels: labels, width: width)
        let grid = Self.gridSearch(type, logits, labels, width: width)
        let logT = log(Double(fit.temperature))
        #expect(abs(logT - grid.logT) <= grid.step, "\(type) k \(k): fit log T \(logT), grid \(grid.logT), step \(grid.step)")
        #expect(fit.nllAfter <= grid.nll * (1 + 1e-12), "\(type) k \(k): fit NLL \(fit.nllAfter), grid \(grid.nll)")
        #expect(fit.nllAfter < fit.nllBefore && fit.note == nil)
        #expect(fit.rows == 600)
        // The exact posterior's log-odds are 2u (binary: means ±1, unit variance) and 1.5 times
        // each class's u (classification), plus a prior term a temperature cannot express: the
        // fitted T is near k / 2 and k / 1.5, within 25% on 600 rows.
        let ideal = Double(k) / (type == .classification ? 1.5 : 2)
        #expect(abs(Double(fit.temperature) / ideal - 1) < 0.25, "\(type) k \(k): T \(fit.temperature), ideal \(ideal)")
    }

    @Test func negativeLogLikelihoodByHand() {
        func nll(_ type: TaskType, _ z: [Float], _ y: [Float], _ width: Int, _ t: Double) -> Double {
            TemperatureFit.negativeLogLikelihood(type, logits: z, labels: y, width: width, temperature: t)
        }
        // −log σ(0) = log 2; −log(1 − σ(2 / 2)) = log(1 + e).
        #expect(abs(nll(.binary, [0], [1], 1, 1) - log(2.0)) < 1e-12)
        #expect(abs(nll(.binary, [2], [0], 1, 2) - log(1 + exp(1.0))) < 1e-12)
        // Far in the tails the stable form neither overflows nor loses the loss: −log σ(−200) = 200.
        #expect(abs(nll(.binary, [-200], [1], 1, 1) - 200) < 1e-9)
        // log(e + e² + e³) − 1, and the mean over two rows (the second shifted: the same loss).
        let expected = log(exp(1.0) + exp(2.0) + exp(3.0)) - 1
        #expect(abs(nll(.classification, [1, 2, 3], [0], 3, 1) - expected) < 1e-12)
        #expect(abs(nll(.classification, [1, 2, 3, 2, 3, 4], [0, 0], 3, 1) - expected) < 1e-12)
        // Multilabel: the mean over every label of every row.
        #expect(abs(nll(.multilabel, [0, 2], [1, 0], 2, 1) - (log(2.0) + log(1 + exp(2.0))) / 2) < 1e-12)
        #expect(nll(.binary, [], [], 1, 1).isNaN)
    }

    @Test func keepsOneWhereNothingCanBeFitted() {
        let none = TemperatureFit.fit(.binary, logits: [], labels: [], width: 1)
        #expect(none.temperature == 1 && none.rows == 0 && none.note?.hasPrefix("no rows") == true)
        let same = TemperatureFit.fit(.classification, logits: [1, 0, 2, 0], labels: [1, 1], width: 2)
        #expect(same.temperature == 1 && same.rows == 2 && same.note?.hasPrefix("every row has the same label") == true)
        // Logits that are all 0 say nothing: every T gives log 2, and T stays 1.
        let flat = TemperatureFit.fit(.binary, logits: [0, 0, 0, 0], labels: [1, 0, 1, 0], width: 1)
        #expect(flat.temperature == 1 && flat.nllAfter == flat.nllBefore)
        // A diverged model's logits keep T = 1 and say so.
        let diverged = TemperatureFit.fit(.binary, logits: [.nan, 1], labels: [1, 0], width: 1)
        #expect(diverged.temperature == 1 && diverged.note?.contains("not finite") == true)
    }

    @Test func separableRowsStopAtTheEdgeWithANote() {
        let fit = TemperatureFit.fit(.binary, logits: [-1, -0.5, 0.5, 1], labels: [0, 0, 1, 1], width: 1)
        #expect(abs(Double(fit.temperature) - TemperatureFit.range.lowerBound) < 1e-4)
        #expect(fit.note == "T reached the edge of 0.05…20: the rows are nearly separable")
    }
}
