import Testing
@testable import Engine

/// L = Σ r · out with fixed random r: a scalar whose gradient with respect to `out` is r, so
/// that any op's backward can be checked through it.
final class ProjectionLoss: LossOp {
    let input: Tensor
    var inputs: [Tensor] { [input] }
    let r: [Float]
    var weight: Float = 1
    private(set) var loss: Float = 0
    private(set) var exactLoss: Double = 0
    var count: Int { 1 }

    init(_ input: Tensor, seed: UInt64) {
        self.input = input
        var random = Random(seed: seed)
        r = (0..<(input.maxBatch * input.sampleSize)).map { _ in random.uniform() * 2 - 1 }
    }

    func forward(batch: Int, mode: PassMode) {
        var sum: Double = 0
        for i in 0..<(batch * input.sampleSize) { sum += Double(r[i]) * Double(input.data[i]) }
        exactLoss = sum
        loss = Float(sum)
    }

    func backward(batch: Int) {
        guard let d = input.grad else { return }
        for i in 0..<(batch * input.sampleSize) { d[i] += weight * r[i] }
    }

    /// A probe of the whole batch: no sample has a loss of its own.
    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        for b in 0..<batch { losses[b] = .nan }
    }
}

/// The result of comparing backward's gradients with central finite differences.
struct GradientReport: CustomStringConvertible {
    var worst: Double = 0
    var worstPlace = ""
    var checked = 0

    var description: String { "worst relative error \(worst) at \(worstPlace) over \(checked) values" }
}

/// Builds a plan around `build`, fills its trainable inputs with `fill`, and compares every
/// gradient (inputs and parameters) with (L(x + h) − L(x − h)) / 2h, L summed in double
/// precision. The error of one value is |analytic − numeric| / (|analytic| + |numeric| + 0.01):
/// relative for large gradients, absolute near zero, where float32 rounding in L (about
/// 1e-7 · |L| / h) dominates.
func checkGradients(batch: Int, seed: UInt64 = 7, step h: Float = 1e-3, mode: PassMode = .training,
                    pool: ThreadPool = ThreadPool(threads: 1), inputs shapes: [[Int]],
                    fill: ((Int, Int) -> Float)? = nil, build: (PlanBuilder, [Tensor]) -> Void) -> GradientReport {
    let builder = PlanBuilder(maxBatch: batch, pool: pool)
    let inputs = shapes.map { builder.tensor($0) }
    build(builder, inputs)
    let plan = builder.build(seed: seed)
    var random = Random(seed: seed &+ 1)
    for (k, input) in inputs.enumerated() {
        for i in 0..<(batch * input.sampleSize) {
            input.data[i] = fill?(k, i) ?? (random.uniform() * 2 - 1)
        }
    }
    func total() -> Double {
        plan.reseedOps(seed)
        plan.forward(batch: batch, mode: mode)
        return plan.losses.reduce(0.0) { sum, loss in
            sum + Double(loss.weight) * ((loss as? ProjectionLoss)?.exactLoss ?? Double(loss.loss))
        }
    }
    _ = total()
    plan.backward(batch: batch)
    var report = GradientReport()
    func compare(_ values: UnsafeMutablePointer<Float>, _ grads: UnsafeMutablePointer<Float>, _ count: Int,
                 _ name: String) {
        let analytic = (0..<count).map { Double(grads[$0]) }
        for i in 0..<count {
            let saved = values[i]
            values[i] = saved + h
            let up = total()
            values[i] = saved - h
            let down = total()
            values[i] = saved
            let numeric = (up - down) / (2 * Double(h))
            let error = abs(analytic[i] - numeric) / (abs(analytic[i]) + abs(numeric) + 0.01)
            report.checked += 1
            if error > report.worst {
                report.worst = error
                report.worstPlace = "\(name)[\(i)] analytic \(analytic[i]) numeric \(numeric)"
            }
        }
    }
    for (k, input) in inputs.enumerated() {
        compare(input.data, input.grad!, batch * input.sampleSize, "input \(k)")
    }
    for parameter in plan.parameters {
        compare(parameter.value, parameter.grad, parameter.count, parameter.name)
    }
    return report
}

extension PlanBuilder {
    /// Ends a test plan with a projection loss on `tensor`.
    func project(_ tensor: Tensor, seed: UInt64 = 11) {
        add(ProjectionLoss(tensor, seed: seed))
    }
}
