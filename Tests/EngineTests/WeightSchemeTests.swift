import Testing
@testable import Engine

/// Each `init:` rule draws weights and biases with the mean, variance and range of its formula.
///
/// Tolerances: the sample mean of n draws with variance σ² has standard error σ/√n, and the
/// sample variance has standard error σ²·√((κ − 1)/n), κ the kurtosis (3 for a normal, 1.8 for a
/// uniform); each check allows five standard errors, so a correct draw fails about once in
/// two million runs and a formula off by a factor of √2 in the standard deviation never passes.
struct WeightSchemeTests {
    struct Moments {
        var mean = 0.0, variance = 0.0, largest = 0.0
        init(_ values: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count { mean += Double(values[i]) }
            mean /= Double(count)
            for i in 0..<count {
                variance += (Double(values[i]) - mean) * (Double(values[i]) - mean)
                largest = max(largest, abs(Double(values[i])))
            }
            variance /= Double(count - 1)
        }
    }

    /// Checks one parameter against a distribution with `variance` (normal, or uniform in ±limit).
    func expectDrawn(_ parameter: Parameter, variance: Double, uniformLimit limit: Double?, _ what: String) {
        let n = Double(parameter.count)
        let m = Moments(parameter.value, count: parameter.count)
        let kurtosis = limit == nil ? 3.0 : 1.8
        #expect(abs(m.mean) < 5 * (variance / n).squareRoot(), "\(what): mean \(m.mean)")
        let varianceError = abs(m.variance - variance) / variance
        #expect(varianceError < 5 * ((kurtosis - 1) / n).squareRoot(),
                "\(what): variance \(m.variance), expected \(variance), relative error \(varianceError)")
        if let limit {
            #expect(m.largest <= limit, "\(what): \(m.largest) outside ±\(limit)")
            #expect(m.largest > 0.99 * limit, "\(what): largest \(m.largest) never near the limit \(limit)")
        } else {
            // A normal draw of this many values reaches beyond 3σ; a uniform one of the same
            // variance cannot (its limit is √3 σ).
            #expect(m.largest > 3 * variance.squareRoot(), "\(what): largest \(m.largest) looks bounded")
        }
    }

    func expectZero(_ parameter: Parameter, _ what: String) {
        #expect((0..<parameter.count).allSatisfy { parameter.value[$0] == 0 }, "\(what) is not all zeros")
    }

    /// A dense layer 300 → 200 and a conv of 5×5 over 6 channels to 40 filters (fan-in 150,
    /// fan-out 1000), each with bias, under one rule.
    /// The plan is returned to keep the parameters' memory alive.
    func build(_ scheme: WeightScheme) -> (plan: Plan, dense: [Parameter], conv: [Parameter], embedding: Parameter) {
        let b = PlanBuilder(maxBatch: 1)
        _ = b.dense(b.input([300]), units: 200, initialization: scheme, name: "d")
        _ = b.conv2d(b.input([8, 8, 6]), filters: 40, kernel: 5, initialization: scheme, name: "c")
        _ = b.embedding(b.input([1]), vocabulary: 500, dimension: 64, initialization: scheme, name: "e")
        let plan = b.build(seed: 7)
        func named(_ name: String) -> Parameter { plan.parameters.first { $0.name == name }! }
        return (plan, [named("d.weight"), named("d.bias")], [named("c.weight"), named("c.bias")], named("e.weight"))
    }

    @Test func he() {
        let p = build(.he)
        expectDrawn(p.dense[0], variance: 2.0 / 300, uniformLimit: nil, "dense weight")
        expectDrawn(p.conv[0], variance: 2.0 / 150, uniformLimit: nil, "conv weight")
        expectDrawn(p.embedding, variance: 2, uniformLimit: nil, "embedding")
        expectZero(p.dense[1], "dense bias")
        expectZero(p.conv[1], "conv bias")
    }

    @Test func glorot() {
        let p = build(.glorot)
        let dense = (6.0 / 500).squareRoot(), conv = (6.0 / 1150).squareRoot(), table = (6.0 / 65).squareRoot()
        expectDrawn(p.dense[0], variance: dense * dense / 3, uniformLimit: dense, "dense weight")
        expectDrawn(p.conv[0], variance: conv * conv / 3, uniformLimit: conv, "conv weight")
        expectDrawn(p.embedding, variance: table * table / 3, uniformLimit: table, "embedding")
        expectZero(p.dense[1], "dense bias")
        expectZero(p.conv[1], "conv bias")
    }

    @Test func lecun() {
        let p = build(.lecun)
        expectDrawn(p.dense[0], variance: 1.0 / 300, uniformLimit: nil, "dense weight")
        expectDrawn(p.conv[0], variance: 1.0 / 150, uniformLimit: nil, "conv weight")
        expectDrawn(p.embedding, variance: 1, uniformLimit: nil, "embedding")
        expectZero(p.dense[1], "dense bias")
        expectZero(p.conv[1], "conv bias")
    }

    /// PyTorch's defaults: weights and biases uniform in ±1/√fan-in; embeddings N(0, 1).
    @Test func torch() {
        let p = build(.torch)
        let dense = 1 / 300.0.squareRoot(), conv = 1 / 150.0.squareRoot()
        expectDrawn(p.dense[0], variance: dense * dense / 3, uniformLimit: dense, "dense weight")
        expectDrawn(p.conv[0], variance: conv * conv / 3, uniformLimit: conv, "conv weight")
        expectDrawn(p.embedding, variance: 1, uniformLimit: nil, "embedding")
        // 200 and 40 values: only the range and the spread are tested (the limit is reached
        // within 1% with probability 1 − 0.99^200 and 1 − 0.99^40 ≈ 0.87 — too weak for a test).
        for (bias, limit) in [(p.dense[1], dense), (p.conv[1], conv)] {
            let m = Moments(bias.value, count: bias.count)
            #expect(m.largest <= limit && m.largest > limit / 2, "bias largest \(m.largest), limit \(limit)")
        }
    }

    /// A fused group of dense layers draws each layer by its own rule.
    @Test func denseGroupTakesEachLayersRule() {
        let b = PlanBuilder(maxBatch: 1)
        _ = b.denseGroup(b.input([400]), units: [300, 300], initialization: [.torch, .he], names: ["t", "h"])
        let plan = b.build(seed: 3)
        func named(_ name: String) -> Parameter { plan.parameters.first { $0.name == name }! }
        let limit = 1 / 400.0.squareRoot()
        expectDrawn(named("t.weight"), variance: limit * limit / 3, uniformLimit: limit, "torch weight")
        expectDrawn(named("h.weight"), variance: 2.0 / 400, uniformLimit: nil, "he weight")
        expectZero(named("h.bias"), "he bias")
        #expect(Moments(named("t.bias").value, count: 300).largest > limit / 2)
    }
}
