/// Embedding lookup: out[b, t] = table[ids[b, t]] for a table of (vocabulary, dimension).
/// Ids are stored as floats (exact up to 2²⁴ entries) and rounded to the nearest row. Backward adds dout into the rows the
/// batch used, and only those.
final class EmbeddingOp: Op {
    let ids: Tensor, output: Tensor
    var inputs: [Tensor] { [ids] }
    let table: Parameter
    let dimension: Int, vocabulary: Int

    init(ids: Tensor, output: Tensor, table: Parameter) {
        self.ids = ids
        self.output = output
        self.table = table
        vocabulary = table.shape[0]
        dimension = table.shape[1]
    }

    func forward(batch: Int, mode: PassMode) {
        for p in 0..<(batch * ids.sampleSize) {
            let row = min(max(Int(ids.data[p].rounded()), 0), vocabulary - 1)
            (output.data + p * dimension).update(from: table.value + row * dimension, count: dimension)
        }
    }

    func backward(batch: Int) {
        guard !table.frozen, let dout = output.grad else { return }
        for p in 0..<(batch * ids.sampleSize) {
            let row = min(max(Int(ids.data[p].rounded()), 0), vocabulary - 1)
            let g = table.grad + row * dimension, d = dout + p * dimension
            for j in 0..<dimension { g[j] += d[j] }
        }
    }
}

extension PlanBuilder {
    /// Vectors of `dimension` for ids in 0..<vocabulary; `ids` holds one id per position.
    public func embedding(_ ids: Tensor, vocabulary: Int, dimension: Int, initialization: WeightScheme = .torch,
                          name: String) -> Tensor {
        let table = parameter("\(name).weight", [vocabulary, dimension], initialization.embedding(dimension: dimension))
        let output = tensor(ids.shape + [dimension])
        add(EmbeddingOp(ids: ids, output: output, table: table))
        return output
    }
}
