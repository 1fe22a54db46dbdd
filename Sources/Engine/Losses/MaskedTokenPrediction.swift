import Foundation

// A masked language model's output layer and loss, fused: at the positions its mask keeps
// (the tokens masked in this step), a dense layer from the sequence's features to the
// vocabulary, softmax, and cross-entropy against the original ids.
//
// Only the kept positions go through the product: with a 15% rate that is a sixth of the
// work of a dense layer at every position, and the logits of a 5,000-word vocabulary at every
// position of a batch of 128 × 64 would take 160 MB. The kept positions are gathered in chunks
// of `chunkRows`; forward keeps each one's log-sum-exp, and backward makes the chunk's logits
// again from it (one product more than storing them, and a buffer of one chunk's logits).

/// hidden (N, L, d) → at kept positions: z = hidden[n, t] · Wᵀ + b (V values),
/// l = logsumexp(z) − z[y]; the loss is Σ l over kept positions / the divisor.
/// `output` (N, L, 2) holds per position (1 if argmax z = y else 0, l), and (−1, 0) where the
/// mask keeps nothing: what the metrics read (accuracy at masked positions, perplexity).
/// Backward: dz = (softmax(z) − onehot(y)) · weight / divisor; dW += dzᵀ · x; db += Σ dz;
/// dhidden[n, t] += dz · W.
final class MaskedTokenPredictionOp: MaskedLoss {
    let hidden: Tensor, output: Tensor, targets: Tensor, mask: Tensor
    let projection: Parameter, bias: Parameter
    var inputs: [Tensor] { [hidden] }
    let positions: Int, features: Int, vocabulary: Int
    var weight: Float
    private(set) var loss: Float = 0
    private(set) var count = 0
    var rowsAcrossProcesses: Int?
    private(set) var divisor = 0
    /// The kept positions of the last forward pass (n · L + t), in order, and each one's
    /// log-sum-exp.
    let kept: UnsafeMutablePointer<Int32>
    let logSumExps: UnsafeMutablePointer<Float>
    /// One chunk's gathered features (chunkRows × d), their gradient, and its logits (chunkRows × V).
    let gathered: UnsafeMutablePointer<Float>, gatheredGradient: UnsafeMutablePointer<Float>
    let logits: UnsafeMutablePointer<Float>
    /// At most the rows the buffers were made for (tests set fewer, to split the positions).
    var chunkRows: Int
    let product: MatrixProduct

    init(pool: ThreadPool, hidden: Tensor, output: Tensor, targets: Tensor, mask: Tensor, projection: Parameter,
         bias: Parameter, weight: Float, kept: UnsafeMutablePointer<Int32>, logSumExps: UnsafeMutablePointer<Float>,
         gathered: UnsafeMutablePointer<Float>, gatheredGradient: UnsafeMutablePointer<Float>,
         logits: UnsafeMutablePointer<Float>, chunkRows: Int) {
        (self.hidden, self.output, self.targets, self.mask) = (hidden, output, targets, mask)
        (self.projection, self.bias, self.weight) = (projection, bias, weight)
        (self.kept, self.logSumExps, self.gathered, self.gatheredGradient) = (kept, logSumExps, gathered, gatheredGradient)
        (self.logits, self.chunkRows) = (logits, chunkRows)
        product = MatrixProduct(pool: pool)
        features = hidden.shape.last!
        positions = hidden.sampleSize / features
        vocabulary = projection.shape[0]
        precondition(targets.sampleSize == positions && mask.sampleSize == positions && output.sampleSize == 2 * positions)
    }

    /// Gathers kept positions `start..<start + rows` and writes their logits into `logits`.
    private func chunkLogits(_ start: Int, _ rows: Int) {
        for i in 0..<rows {
            (gathered + i * features).update(from: hidden.data + Int(kept[start + i]) * features, count: features)
        }
        product(transB: true, m: rows, n: vocabulary, k: features, gathered, lda: features, projection.value,
                ldb: features, beta: 0, logits, ldc: vocabulary, bias: UnsafePointer(bias.value))
    }

    func forward(batch: Int, mode: PassMode) {
        var rows = 0
        for i in 0..<(batch * positions) {
            if mask.data[i] != 0 {
                kept[rows] = Int32(i)
                rows += 1
            }
            output.data[2 * i] = -1
            output.data[2 * i + 1] = 0
        }
        var sum: Double = 0
        for start in stride(from: 0, to: rows, by: chunkRows) {
            let chunk = min(chunkRows, rows - start)
            chunkLogits(start, chunk)
            for i in 0..<chunk {
                let z = logits + i * vocabulary, position = Int(kept[start + i])
                var top = 0
                for j in 1..<vocabulary where z[j] > z[top] { top = j }
                var total: Float = 0
                for j in 0..<vocabulary { total += expf(z[j] - z[top]) }
                let lse = z[top] + logf(total), target = Int(targets.data[position])
                let l = lse - z[target]
                logSumExps[start + i] = lse
                output.data[2 * position] = top == target ? 1 : 0
                output.data[2 * position + 1] = l
                sum += Double(l)
            }
        }
        count = rows
        divisor = rowsAcrossProcesses ?? rows
        rowsAcrossProcesses = nil
        loss = divisor == 0 ? 0 : Float(sum / Double(divisor))
    }

    func countKept(batch: Int) -> Int {
        var rows = 0
        for i in 0..<(batch * positions) where mask.data[i] != 0 { rows += 1 }
        return rows
    }

    func sampleLosses(batch: Int, into losses: UnsafeMutablePointer<Float>) {
        for n in 0..<batch {
            var sum: Double = 0, rows = 0
            for t in 0..<positions where mask.data[n * positions + t] != 0 {
                sum += Double(output.data[2 * (n * positions + t) + 1])
                rows += 1
            }
            losses[n] = rows == 0 ? .nan : Float(sum / Double(rows))
        }
    }

    func backward(batch: Int) {
        guard count > 0 else { return }
        let scale = weight / Float(divisor)
        for start in stride(from: 0, to: count, by: chunkRows) {
            let chunk = min(chunkRows, count - start)
            chunkLogits(start, chunk)
            for i in 0..<chunk {
                let dz = logits + i * vocabulary, lse = logSumExps[start + i]
                for j in 0..<vocabulary { dz[j] = scale * expf(dz[j] - lse) }
                dz[Int(targets.data[Int(kept[start + i])])] -= scale
            }
            if !projection.frozen {
                product(transA: true, m: vocabulary, n: features, k: chunk, logits, lda: vocabulary, gathered,
                        ldb: features, beta: 1, projection.grad, ldc: features)
                for i in 0..<chunk {
                    let dz = logits + i * vocabulary
                    for j in 0..<vocabulary { bias.grad[j] += dz[j] }
                }
            }
            guard let dhidden = hidden.grad else { continue }
            product(m: chunk, n: features, k: vocabulary, logits, lda: vocabulary, projection.value, ldb: features,
                    beta: 0, gatheredGradient, ldc: features)
            for i in 0..<chunk {
                let to = dhidden + Int(kept[start + i]) * features, from = gatheredGradient + i * features
                for f in 0..<features { to[f] += from[f] }
            }
        }
    }

    func flops(batch: Int) -> Double {
        // Forward, the logits again, and the two gradient products, at the kept positions
        // (counted at a 15% rate: the op cannot know the mask before a pass).
        2 * 4 * 0.15 * Double(batch * positions) * Double(features) * Double(vocabulary)
    }
}

extension PlanBuilder {
    /// A masked language model's output layer over `hidden` (N, L, d) to `vocabulary` ids and
    /// its loss at the positions `mask` keeps, against `targets` (original ids). Returns the
    /// per-position (hit, loss) tensor (N, L, 2) and the loss. Parameters
    /// `<name>.weight` (V, d) and `<name>.bias` (V), drawn as a dense layer's.
    public func maskedTokenPrediction(_ hidden: Tensor, vocabulary: Int, targets: Tensor, mask: Tensor,
                                      weight: Float = 1, initialization: WeightScheme = .glorot,
                                      name: String) -> (output: Tensor, loss: any MaskedLoss) {
        let features = hidden.shape.last!, positions = hidden.sampleSize / features
        let projection = parameter("\(name).weight", [vocabulary, features],
                                   initialization.weight(fanIn: features, fanOut: vocabulary))
        let bias = parameter("\(name).bias", [vocabulary], initialization.bias(fanIn: features))
        let output = tensor(Array(hidden.shape.dropLast()) + [2], gradient: false)
        let capacity = maxBatch * positions
        // Chunks of at most 512 positions, and of at most about 4 M logits.
        let chunkRows = max(1, min(capacity, 512, (1 << 22) / max(vocabulary, 1)))
        let op = MaskedTokenPredictionOp(pool: pool, hidden: hidden, output: output, targets: targets, mask: mask,
                                         projection: projection, bias: bias, weight: weight,
                                         kept: arena.int32s(capacity), logSumExps: scratch(capacity),
                                         gathered: scratch(chunkRows * features),
                                         gatheredGradient: scratch(chunkRows * features),
                                         logits: scratch(chunkRows * vocabulary), chunkRows: chunkRows)
        add(op)
        return (output, op)
    }
}
