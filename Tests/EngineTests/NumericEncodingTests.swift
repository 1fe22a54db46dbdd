import Foundation
import Testing
@testable import Engine

/// The numeric encodings of Gorishniy et al. (2022): values against hand computation, gradients
/// against finite differences (tolerance as in `OpGradientTests`).
struct NumericEncodingTests {
    /// Two bins [0, 1) and [1, 3): below the first edge only slot 0 moves (negative), inside a
    /// bin its slot rises from 0 to 1 with the earlier ones full, past the last edge the last
    /// slot keeps growing; the third slot (more slots than bins) is always 0.
    @Test func piecewiseLinearSlotsByHand() {
        let bins = PiecewiseLinearBins(edges: [0, 1, 3])
        #expect(bins.encode(-0.5, slots: 3) == [-0.5, 0, 0])
        #expect(bins.encode(0.5, slots: 3) == [0.5, 0, 0])
        #expect(bins.encode(1, slots: 3) == [1, 0, 0])
        #expect(bins.encode(2, slots: 3) == [1, 0.5, 0])
        #expect(bins.encode(5, slots: 3) == [1, 2, 0])
        // One bin is a line through both edges; no edges (a constant column) encode as zeros.
        #expect(PiecewiseLinearBins(edges: [2, 4]).encode(1, slots: 2) == [-0.5, 0])
        #expect(PiecewiseLinearBins(edges: [2, 4]).encode(5, slots: 2) == [1.5, 0])
        #expect(PiecewiseLinearBins(edges: []).encode(7, slots: 2) == [0, 0])
    }

    /// The op writes each column's slots in order, then the indicator columns unchanged.
    @Test func piecewiseLinearOpLaysOutColumnsThenIndicators() {
        let b = PlanBuilder(maxBatch: 2)
        let x = b.input([3])
        let out = b.piecewiseLinearEncoding(x, bins: [PiecewiseLinearBins(edges: [0, 1, 3]), PiecewiseLinearBins(edges: [])],
                                            slots: 2, dimension: nil, initialization: .torch, name: "p")
        let plan = b.build(seed: 1)
        for (i, v) in [Float(2), 9, 1, /* row 2 */ -1, 0, 0].enumerated() { x.data[i] = v }
        plan.forward(batch: 2, mode: .evaluation)
        #expect(out.shape == [5])
        #expect(Array(out.values(batch: 2)) == [1, 0.5, 0, 0, 1, /* row 2 */ -1, 0, 0, 0, 0])
    }

    /// The op's branch-free tables give exactly the reference's slots, on values below, inside,
    /// on and above every edge.
    @Test func piecewiseLinearOpEqualsTheReference() {
        let bins = [PiecewiseLinearBins(edges: [-1, -0.25, 0, 0.5, 2]), PiecewiseLinearBins(edges: [0, 1]),
                    PiecewiseLinearBins(edges: [])]
        let values: [Float] = (0..<64).map { Float($0) * 0.125 - 4 } + [-0.25, 0, 0.5, 2, 1]
        let b = PlanBuilder(maxBatch: values.count)
        let x = b.input([3])
        let out = b.piecewiseLinearEncoding(x, bins: bins, slots: 5, dimension: nil, initialization: .torch, name: "p")
        let plan = b.build(seed: 1)
        for (n, v) in values.enumerated() { for j in 0..<3 { x.data[n * 3 + j] = v } }
        plan.forward(batch: values.count, mode: .evaluation)
        let rows = out.values(batch: values.count)
        for (n, v) in values.enumerated() {
            let expected = bins.flatMap { $0.encode(v, slots: 5) }
            #expect(Array(rows[(n * 15)..<((n + 1) * 15)]) == expected, "x = \(v)")
        }
    }

    /// With `dimension`, each column's slots go through a dense map of its own:
    /// out[j·D + d] = Σ_t slot_t · W[j, d, t] + b[j, d].
    @Test func piecewiseLinearMapByHand() {
        let b = PlanBuilder(maxBatch: 1)
        let x = b.input([2])
        let out = b.piecewiseLinearEncoding(x, bins: [PiecewiseLinearBins(edges: [0, 1, 3]), PiecewiseLinearBins(edges: [0, 2])],
                                            slots: 2, dimension: 1, initialization: .torch, name: "p")
        let plan = b.build(seed: 1)
        let weight = plan.parameters.first { $0.name == "p.weight" }!, bias = plan.parameters.first { $0.name == "p.bias" }!
        for (i, v) in [Float(2), 3, /* column 1 */ 5, 7].enumerated() { weight.value[i] = v }
        bias.value[0] = 0.25
        bias.value[1] = -1
        x.data[0] = 2  // slots [1, 0.5]
        x.data[1] = 1  // slots [0.5, 0]
        plan.forward(batch: 1, mode: .evaluation)
        let expected: [Float] = [2 * 1 + 3 * 0.5 + 0.25, 5 * 0.5 + 7 * 0 - 1]
        #expect(Array(out.values(batch: 1)) == expected)
    }

    /// The map's bin search (16 edges compared at a time, in two steps) finds the reference's
    /// bin for columns of one bin, a block of 16 and one edge more, 255 bins and more than 256
    /// (several blocks of block starts), on every edge, next to it on both sides, between edges,
    /// beyond both ends and at both infinities; −0 is at or above an edge at +0; a NaN stays in
    /// the column's bins.
    @Test func piecewiseLinearBinSearchEqualsTheReference() throws {
        var random = Random(seed: 7)
        let bins = [PiecewiseLinearBins(edges: [-1, 0, 1])] + [1, 2, 16, 17, 18, 255, 300].map { count in
            var edge: Float = -3
            return PiecewiseLinearBins(edges: (0...count).map { _ in
                edge += 0.001 + Float(random.next() % 1000) / 500
                return edge
            })
        }
        let b = PlanBuilder(maxBatch: 1)
        let x = b.input([bins.count])
        _ = b.piecewiseLinearEncoding(x, bins: bins, slots: 300, dimension: 2, initialization: .torch, name: "p")
        let plan = b.build(seed: 1)
        let op = try #require(plan.ops.first as? PiecewiseLinearEmbeddingOp)
        for (j, column) in bins.enumerated() {
            let near = column.edges.flatMap { [$0, $0.nextDown, $0.nextUp, $0 + 0.0005] }
            for value in near + [-0.0, -1000, 1000, -.infinity, .infinity] {
                #expect(op.binIndex(of: value, column: j) == op.binIndexReference(of: value, column: j),
                        "column \(j) (\(column.count) bins), x = \(value)")
            }
            #expect((0..<column.count).contains(op.binIndex(of: .nan, column: j)))
            #expect((0..<column.count).contains(op.binIndex(of: -.nan, column: j)))
        }
        #expect(op.binIndex(of: -0.0, column: 0) == 1)
    }

    /// The map's prefix sums give the reference's encoding times the weights, on values below,
    /// inside, on and above every edge, for a column with several bins, one, and none (within
    /// float32 rounding of sums of 5 terms of size ≤ 8: 1e-5).
    @Test func piecewiseLinearMapEqualsTheReference() {
        let bins = [PiecewiseLinearBins(edges: [-1, -0.25, 0, 0.5, 2]), PiecewiseLinearBins(edges: [0, 1]),
                    PiecewiseLinearBins(edges: [])]
        let values: [Float] = (0..<64).map { Float($0) * 0.125 - 4 } + [-0.25, 0, 0.5, 2, 1]
        let (slots, units) = (5, 3)
        let b = PlanBuilder(maxBatch: values.count)
        let x = b.input([4])
        let out = b.piecewiseLinearEncoding(x, bins: bins, slots: slots, dimension: units, initialization: .torch,
                                            name: "p")
        let plan = b.build(seed: 1)
        let weight = plan.parameters.first { $0.name == "p.weight" }!, bias = plan.parameters.first { $0.name == "p.bias" }!
        for (n, v) in values.enumerated() {
            for j in 0..<3 { x.data[n * 4 + j] = v }
            x.data[n * 4 + 3] = Float(n)
        }
        plan.forward(batch: values.count, mode: .evaluation)
        let rows = out.values(batch: values.count)
        for (n, v) in values.enumerated() {
            var expected: [Float] = []
            for (j, column) in bins.enumerated() {
                let slot = column.encode(v, slots: slots)
                for d in 0..<units {
                    var sum = bias.value[j * units + d]
                    for t in 0..<slots { sum += slot[t] * weight.value[(j * units + d) * slots + t] }
                    expected.append(sum)
                }
            }
            expected.append(Float(n))
            let observed = Array(rows[(n * 10)..<((n + 1) * 10)])
            #expect(zip(observed, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "x = \(v): \(observed) vs \(expected)")
        }
    }

    /// The map's weight and bias gradients on data (no input gradient, as in training), with
    /// values on the edges themselves (integer columns put many rows there) and beyond both
    /// ends: dW[j, d, t] = Σₙ dout[n, j, d] · slot_t(xₙ), dB[j, d] = Σₙ dout[n, j, d], computed
    /// from the reference encoding in double precision (float32 sums of 69 terms: 1e-5).
    @Test func piecewiseLinearMapGradientsEqualTheReference() {
        let bins = [PiecewiseLinearBins(edges: [-1, -0.25, 0, 0.5, 2]), PiecewiseLinearBins(edges: [0, 1]),
                    PiecewiseLinearBins(edges: [])]
        let values: [Float] = (0..<64).map { Float($0) * 0.125 - 4 } + [-0.25, 0, 0.5, 2, 1]
        let (slots, units, rows) = (5, 3, values.count)
        let b = PlanBuilder(maxBatch: rows)
        let x = b.input([3])
        let out = b.piecewiseLinearEncoding(x, bins: bins, slots: slots, dimension: units, initialization: .torch,
                                            name: "p")
        let probe = ProjectionLoss(out, seed: 5)
        b.add(probe)
        let plan = b.build(seed: 1)
        for (n, v) in values.enumerated() { for j in 0..<3 { x.data[n * 3 + j] = v } }
        plan.forward(batch: rows, mode: .training)
        plan.backward(batch: rows)
        let weight = plan.parameters.first { $0.name == "p.weight" }!, bias = plan.parameters.first { $0.name == "p.bias" }!
        for (j, column) in bins.enumerated() {
            for d in 0..<units {
                var dBias = 0.0, dWeight = [Double](repeating: 0, count: slots)
                for (n, v) in values.enumerated() {
                    let g = Double(probe.r[n * 3 * units + j * units + d])
                    dBias += g
                    for (t, slot) in column.encode(v, slots: slots).enumerated() { dWeight[t] += g * Double(slot) }
                }
                #expect(abs(Double(bias.grad[j * units + d]) - dBias) <= 1e-5, "bias [\(j), \(d)]")
                for t in 0..<slots {
                    let observed = Double(weight.grad[(j * units + d) * slots + t])
                    #expect(abs(observed - dWeight[t]) <= 1e-5 * max(1, abs(dWeight[t])),
                            "weight [\(j), \(d), \(t)]: \(observed) vs \(dWeight[t])")
                }
            }
        }
    }

    /// v = 2π c x; features [sin v, cos v]; out = relu(w_sin sin v + w_cos cos v + b).
    @Test func periodicByHand() {
        let b = PlanBuilder(maxBatch: 2)
        let x = b.input([2])
        let out = b.periodicEncoding(x, columns: 1, frequencies: 1, sigma: 1, dimension: 2, initialization: .torch,
                                     name: "q")
        let plan = b.build(seed: 1)
        func named(_ name: String) -> Parameter { plan.parameters.first { $0.name == name }! }
        named("q.frequencies").value[0] = 0.125  // v = π/4 · x
        for (i, v) in [Float(2), 3, /* unit 1 */ -1, 0.5].enumerated() { named("q.weight").value[i] = v }
        named("q.bias").value[0] = -0.5
        named("q.bias").value[1] = 0.25
        for (i, v) in [Float(2), 1, /* row 2 */ -2, 0].enumerated() { x.data[i] = v }
        plan.forward(batch: 2, mode: .evaluation)
        func expected(_ x: Double) -> [Double] {
            let v = Double.pi / 4 * x
            return [max(2 * sin(v) + 3 * cos(v) - 0.5, 0), max(-sin(v) + 0.5 * cos(v) + 0.25, 0)]
        }
        let observed = out.values(batch: 2).map(Double.init)
        let wanted = expected(2) + [1] + expected(-2) + [0]
        for (o, e) in zip(observed, wanted) { #expect(abs(o - e) < 1e-6, "\(observed) vs \(wanted)") }
        #expect(wanted[0] > 0 && wanted[1] == 0, "both sides of the ReLU are exercised")
    }

    func expectSmall(_ report: GradientReport, _ name: String) {
        #expect(report.worst < OpGradientTests.tolerance, "\(name): \(report)")
        #expect(report.checked > 0)
    }

    /// Edges away from the inputs' grid (`OpGradientTests.distinct` steps by 0.01 from −5), so no
    /// kink lies within h of an input; three columns (several bins, one bin, none) and an indicator.
    static let bins = [PiecewiseLinearBins(edges: [-4.003, -1.497, 0.502, 2.996]), PiecewiseLinearBins(edges: [-2.005, 3.005]),
                       PiecewiseLinearBins(edges: [])]

    @Test func piecewiseLinearGradients() {
        expectSmall(checkGradients(batch: 3, inputs: [[4]], fill: OpGradientTests.distinct) { b, x in
            b.project(b.piecewiseLinearEncoding(x[0], bins: Self.bins, slots: 4, dimension: nil, initialization: .torch,
                                                name: "p"))
        }, "piecewise linear")
        expectSmall(checkGradients(batch: 3, inputs: [[4]], fill: OpGradientTests.distinct) { b, x in
            b.project(b.piecewiseLinearEncoding(x[0], bins: Self.bins, slots: 4, dimension: 3, initialization: .torch,
                                                name: "p"))
        }, "piecewise linear with a map")
    }

    @Test func periodicGradients() {
        expectSmall(checkGradients(batch: 3, inputs: [[3]]) { b, x in
            b.project(b.periodicEncoding(x[0], columns: 2, frequencies: 3, sigma: 0.5, dimension: 4, initialization: .torch,
                                         name: "q"))
        }, "periodic")
    }
}
