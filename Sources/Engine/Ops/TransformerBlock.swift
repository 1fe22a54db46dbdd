extension PlanBuilder {
    /// A pre-norm transformer encoder block on `input` (L, D), PyTorch's
    /// `TransformerEncoderLayer(norm_first=True)` with a GELU (tanh form), built from the ops
    /// that exist:
    ///
    ///     x = x + dropout(attention(layernorm1(x)))          attention drops its weights too
    ///     x = x + dropout(linear2(dropout(gelu(linear1(layernorm2(x))))))
    ///
    /// Parameters `<name>.norm1`, `<name>.attention.qkv`, `<name>.attention.out`,
    /// `<name>.norm2`, `<name>.linear1` (D → hidden), `<name>.linear2` (hidden → D), in that
    /// order. With `dropout` 0 no dropout op is built.
    public func transformerBlock(_ input: Tensor, heads: Int, hidden: Int, dropout rate: Float, mask: SequenceMask,
                                 epsilon: Float = 1e-5, initialization: WeightScheme = .torch, name: String) -> Tensor {
        let width = input.shape[1]
        func dropped(_ x: Tensor) -> Tensor { rate > 0 ? dropout(x, rate: rate) : x }
        let attended = residual(input) { x in
            dropped(multiHeadAttention(layerNorm(x, epsilon: epsilon, name: "\(name).norm1"), heads: heads, mask: mask,
                                       dropout: rate, initialization: initialization, name: "\(name).attention"))
        }
        return residual(attended) { x in
            let h = dense(layerNorm(x, epsilon: epsilon, name: "\(name).norm2"), units: hidden,
                          initialization: initialization, name: "\(name).linear1")
            return dropped(dense(dropped(gelu(h)), units: width, initialization: initialization, name: "\(name).linear2"))
        }
    }
}
