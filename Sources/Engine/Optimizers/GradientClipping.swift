/// Global gradient-norm clipping: when ‖g‖₂ over every trainable gradient exceeds `maxNorm`,
/// all of them are scaled by maxNorm / ‖g‖₂ (PyTorch's clip_grad_norm_, ε = 1e-6).
public enum GradientClipping {
    /// Clips in place and returns the norm before clipping.
    @discardableResult
    public static func clip(_ plan: Plan, maxNorm: Float) -> Float {
        let g = plan.gradients
        var sum: Double = 0
        for parameter in plan.parameters where !parameter.frozen {
            for i in parameter.offset..<(parameter.offset + parameter.count) { sum += Double(g[i]) * Double(g[i]) }
        }
        let norm = Float(sum.squareRoot())
        if norm > maxNorm {
            let scale = maxNorm / (norm + 1e-6)
            for parameter in plan.parameters where !parameter.frozen {
                for i in parameter.offset..<(parameter.offset + parameter.count) { g[i] *= scale }
            }
        }
        return norm
    }
}
