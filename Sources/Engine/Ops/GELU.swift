import Foundation

/// GELU with the tanh approximation (as GPT-2 and llm.c use):
/// gelu(x) = ½ x (1 + tanh(u)), u = √(2/π) (x + 0.044715 x³);
/// gelu'(x) = ½ (1 + tanh u) + ½ x (1 − tanh² u) √(2/π) (1 + 3 · 0.044715 x²).
/// tanh is `fastTanh` (within 4e-7 of the true one), so the loops vectorise;
/// `GELUReference` beside it computes the same with the C library's tanhf.
struct GELU: Activation {
    static let scale: Float = (2 / Float.pi).squareRoot()

    func value(_ x: Float) -> Float {
        0.5 * x * (1 + fastTanh(Self.scale * (x + 0.044715 * x * x * x)))
    }

    func derivative(x: Float, y: Float) -> Float {
        let t = fastTanh(Self.scale * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Self.scale * (1 + 3 * 0.044715 * x * x)
    }
}

/// GELU as above with tanhf: the reference `GELU` is tested against.
struct GELUReference: Activation {
    func value(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(GELU.scale * (x + 0.044715 * x * x * x)))
    }

    func derivative(x: Float, y: Float) -> Float {
        let t = tanhf(GELU.scale * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU.scale * (1 + 3 * 0.044715 * x * x)
    }
}

extension PlanBuilder {
    public func gelu(_ input: Tensor) -> Tensor { activation(.gelu, input) }
}
