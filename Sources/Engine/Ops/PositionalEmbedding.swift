/// Learned position embeddings: out[n, t] = inp[n, t] + table[t] for a table of (L, D).
/// Padding positions get theirs too (nothing that respects the mask reads them); their
/// gradient is whatever the ops after them give back, zero through attention, pool and conv1d.
/// dinp += dout; dtable[t] += Σ_n dout[n, t].
final class PositionalEmbeddingOp: Op, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let table: Parameter
    let pool: ThreadPool
    private var batch = 0

    init(input: Tensor, output: Tensor, table: Parameter, pool: ThreadPool) {
        self.input = input
        self.output = output
        self.table = table
        self.pool = pool
    }

    func forward(batch: Int, mode: PassMode) {
        self.batch = batch
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .forward)
    }

    func backward(batch: Int) {
        self.batch = batch
        pool.parallelFor(batch, costPerItem: input.sampleSize, self, part: .inputGradient)
        // Per position, the samples in order: no sum crosses threads.
        if !table.frozen { pool.parallelFor(table.shape[0], costPerItem: batch * table.shape[1], self, part: .tableGradient) }
    }

    /// Forward and the input's gradient over samples, the table's gradient over positions.
    enum Part: Int { case forward, inputGradient, tableGradient }

    func run(_ items: Range<Int>, part: Part, worker: Int) {
        let size = input.sampleSize, width = table.shape[1]
        switch part {
        case .forward:
            for n in items {
                let x = input.data + n * size, y = output.data + n * size
                for i in 0..<size { y[i] = x[i] + table.value[i] }
            }
        case .inputGradient:
            guard let dinp = input.grad, let dout = output.grad else { return }
            for i in (items.lowerBound * size)..<(items.upperBound * size) { dinp[i] += dout[i] }
        case .tableGradient:
            guard let dout = output.grad else { return }
            for t in items {
                let g = table.grad + t * width
                for n in 0..<batch {
                    let d = dout + n * size + t * width
                    for j in 0..<width { g[j] += d[j] }
                }
            }
        }
    }
}

extension PlanBuilder {
    /// `input` (L, D) plus a learned vector per position.
    public func positionalEmbedding(_ input: Tensor, initialization: WeightScheme = .torch, name: String) -> Tensor {
        let (length, width) = (input.shape[0], input.shape[1])
        let table = parameter("\(name).weight", [length, width], initialization.embedding(dimension: width))
        let output = tensor(input.shape)
        add(PositionalEmbeddingOp(input: input, output: output, table: table, pool: pool))
        return output
    }
}
