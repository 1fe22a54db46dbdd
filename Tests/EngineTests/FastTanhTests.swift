import Foundation
import Testing
@testable import Engine

/// The rational tanh and the GELU built on it against the C library's, over the float line.
struct FastTanhTests {
    /// Every 16384th float in [−40, 40] (most of them near 0, where tanh(x) ≈ x), a grid of step
    /// 4e-5 over [−10, 10], and ±∞: within 4e-7 of tanh in double, odd, and ±1 exactly beyond
    /// the clamp. 4e-7 is 3–4 ulp at 1, what a float tanh can be trusted to.
    @Test func fastTanhIsWithinFourTenMillionths() {
        var worst = 0.0, worstAt: Float = 0, checked = 0
        func check(_ x: Float) {
            let error = abs(Double(fastTanh(x)) - tanh(Double(x)))
            if error > worst { (worst, worstAt) = (error, x) }
            if fastTanh(-x) != -fastTanh(x) { Issue.record("not odd at \(x)") }
            checked += 1
        }
        var x: Float = -40
        while x <= 40 {
            check(x)
            for _ in 0..<16384 { x = x.nextUp }
        }
        for i in -250_000...250_000 { check(Float(i) * 4e-5) }
        #expect(worst < 4e-7, "worst error \(worst) at \(worstAt)")
        #expect(checked > 500_000)
        #expect(fastTanh(.infinity) == 1 && fastTanh(-.infinity) == -1 && fastTanh(9) == 1 && fastTanh(-8) == -1)
        #expect(fastTanh(0) == 0)
    }

    /// GELU and its derivative against the tanhf reference: the error of tanh scaled by ½|x|
    /// (values) and the terms it enters (derivative), so 2e-6 relative to max(1, |x|).
    @Test func geluMatchesItsReference() {
        let fast = GELU(), reference = GELUReference()
        var worstValue = 0.0, worstDerivative = 0.0
        var x: Float = -30
        while x <= 30 {
            let bound = Double(max(1, abs(x)))
            worstValue = max(worstValue, Double(abs(fast.value(x) - reference.value(x))) / bound)
            worstDerivative = max(worstDerivative,
                                  Double(abs(fast.derivative(x: x, y: 0) - reference.derivative(x: x, y: 0))) / bound)
            x += 0.000_37
        }
        #expect(worstValue < 2e-6, "value: \(worstValue)")
        #expect(worstDerivative < 2e-6, "derivative: \(worstDerivative)")
    }
}
