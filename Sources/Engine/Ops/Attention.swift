import CBLAS
import Foundation

// Multi-head scaled dot-product self-attention over the positions that hold tokens.
//
// The input is one (L, 3D) row per position, [queries | keys | values] as the projection
// before it writes them; head h reads the h-th Dh = D / H slice of each. For sample n, head h,
// with keep the padding mask:
//   s_ij = q_i · k_j / √Dh                       for keys j with keep_j = 1
//   p_ij = exp(s_ij − max_j s_ij) / Σ_j exp(s_ij − max_j s_ij),   0 for padded j
//   a_ij = p_ij · r_ij   (r: dropout's 0 or 1 / (1 − rate) in training, else a = p)
//   ctx_i = Σ_j a_ij v_j                         for i with keep_i = 1, and 0 for padded i
// Backward, from dctx:
//   da_ij = dctx_i · v_j,  dv_j += Σ_i a_ij dctx_i,  dp_ij = da_ij · r_ij
//   ds_ij = p_ij (dp_ij − Σ_k p_ik dp_ik)
//   dq_i += Σ_j ds_ij k_j / √Dh,  dk_j += Σ_i ds_ij q_i / √Dh
// A row whose keys are all padding (an empty text) has p = 0 and ctx = 0: defined, and no
// gradient. Padded queries give 0 where PyTorch's attention would attend anyway: only what
// the mask keeps is read downstream.

/// The formulas above in plain loops, without dropout: ctx (N, L, D) and p (N, H, L, L) from
/// qkv (N, L, 3D). The reference the op's matrix products are tested against.
func attentionForwardReference(_ ctx: UnsafeMutablePointer<Float>, _ probabilities: UnsafeMutablePointer<Float>,
                               _ qkv: UnsafePointer<Float>, _ mask: SequenceMask, heads: Int, features d: Int,
                               batch: Int) {
    let (length, dh) = (mask.length, d / heads)
    let scale = 1 / Float(dh).squareRoot()
    for n in 0..<batch {
        let keep = mask.keep(n), x = qkv + n * length * 3 * d
        for h in 0..<heads {
            let p = probabilities + (n * heads + h) * length * length
            for i in 0..<length {
                let out = ctx + (n * length + i) * d + h * dh, row = p + i * length
                for j in 0..<length { row[j] = 0 }
                for c in 0..<dh { out[c] = 0 }
                guard keep[i] != 0 else { continue }
                var largest = -Float.infinity
                for j in 0..<length where keep[j] != 0 {
                    var s: Float = 0
                    for c in 0..<dh { s += x[i * 3 * d + h * dh + c] * x[j * 3 * d + d + h * dh + c] }
                    row[j] = s * scale
                    largest = max(largest, row[j])
                }
                var sum: Float = 0
                for j in 0..<length where keep[j] != 0 {
                    row[j] = expf(row[j] - largest)
                    sum += row[j]
                }
                for j in 0..<length where keep[j] != 0 {
                    row[j] /= sum
                    for c in 0..<dh { out[c] += row[j] * x[j * 3 * d + 2 * d + h * dh + c] }
                }
            }
        }
    }
}

/// dqkv += the backward formulas above in plain loops, without dropout.
func attentionBackwardReference(_ dqkv: UnsafeMutablePointer<Float>, _ dctx: UnsafePointer<Float>,
                                _ qkv: UnsafePointer<Float>, _ probabilities: UnsafePointer<Float>,
                                _ mask: SequenceMask, heads: Int, features d: Int, batch: Int) {
    let (length, dh) = (mask.length, d / heads)
    let scale = 1 / Float(dh).squareRoot()
    var dp = [Float](repeating: 0, count: length)
    for n in 0..<batch {
        let keep = mask.keep(n), x = qkv + n * length * 3 * d, dx = dqkv + n * length * 3 * d
        for h in 0..<heads {
            let p = probabilities + (n * heads + h) * length * length
            for i in 0..<length where keep[i] != 0 {
                let dout = dctx + (n * length + i) * d + h * dh, row = p + i * length
                var dot: Float = 0
                for j in 0..<length {
                    dp[j] = 0
                    for c in 0..<dh { dp[j] += dout[c] * x[j * 3 * d + 2 * d + h * dh + c] }
                    dot += row[j] * dp[j]
                }
                for j in 0..<length where keep[j] != 0 {
                    let ds = row[j] * (dp[j] - dot) * scale
                    for c in 0..<dh {
                        dx[j * 3 * d + 2 * d + h * dh + c] += row[j] * dout[c]
                        dx[i * 3 * d + h * dh + c] += ds * x[j * 3 * d + d + h * dh + c]
                        dx[j * 3 * d + d + h * dh + c] += ds * x[i * 3 * d + h * dh + c]
                    }
                }
            }
        }
    }
}

/// The attention of each (sample, head) pair as matrix products over the sample's extent
/// only (an e × e block of scores, e the positions up to its last token), the pairs split
/// between threads: each writes its own head's columns of its own sample, so nothing is
/// summed across threads.
final class AttentionOp: SeededOp, ParallelLoop {
    let input: Tensor, output: Tensor
    var inputs: [Tensor] { [input] }
    let mask: SequenceMask
    let heads: Int, features: Int, headWidth: Int, length: Int
    /// p, (maxBatch, H, L, L), saved for backward.
    let probabilities: UnsafeMutablePointer<Float>
    /// r, the dropout factors, (maxBatch, H, L, L); nil without dropout.
    let dropoutFactors: UnsafeMutablePointer<Float>?
    let rate: Float
    /// Per worker, two L × L blocks: a = p · r, then da and ds.
    let scratch: UnsafeMutablePointer<Float>
    let pool: ThreadPool
    let stream: UInt64
    var random = Random(seed: 0)
    private var lastMode = PassMode.evaluation
    /// Seeds each pair's dropout draws this step, so they do not depend on the threads.
    private var stepSeed: UInt64 = 0

    init(input: Tensor, output: Tensor, mask: SequenceMask, heads: Int, rate: Float,
         probabilities: UnsafeMutablePointer<Float>, dropoutFactors: UnsafeMutablePointer<Float>?,
         scratch: UnsafeMutablePointer<Float>, pool: ThreadPool, stream: UInt64) {
        self.input = input
        self.output = output
        self.mask = mask
        self.heads = heads
        features = output.shape[1]
        headWidth = features / heads
        length = output.shape[0]
        self.rate = rate
        self.probabilities = probabilities
        self.dropoutFactors = dropoutFactors
        self.scratch = scratch
        self.pool = pool
        self.stream = stream
    }

    func reseed(planSeed: UInt64) {
        random = Random(seed: planSeed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
    }

    private var dropping: Bool { lastMode == .training && dropoutFactors != nil }

    func forward(batch: Int, mode: PassMode) {
        lastMode = mode
        if dropping { stepSeed = random.next() }
        pool.parallelFor(batch * heads, costPerItem: 4 * length * length * headWidth, self, part: .forward)
    }

    func backward(batch: Int) {
        guard input.grad != nil else { return }
        pool.parallelFor(batch * heads, costPerItem: 8 * length * length * headWidth, self, part: .backward)
    }

    func run(_ pairs: Range<Int>, part: ForwardOrBackward, worker: Int) {
        for pair in pairs {
            if part == .forward { forward(pair, worker: worker) } else { backward(pair, worker: worker) }
        }
    }

    private func forward(_ pair: Int, worker: Int) {
        let (n, h, d, dh, length) = (pair / heads, pair % heads, features, headWidth, length)
        let e = mask.extent(n), keep = mask.keep(n)
        let x = input.data + n * length * 3 * d + h * dh
        let ctx = output.data + n * length * d + h * dh
        for i in e..<length { (ctx + i * d).update(repeating: 0, count: dh) }
        guard e > 0 else { return }
        let p = probabilities + pair * length * length
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(e), Int32(e), Int32(dh), 1 / Float(dh).squareRoot(),
                    x, Int32(3 * d), x + d, Int32(3 * d), 0, p, Int32(length))
        for i in 0..<e { maskedSoftmax(p + i * length, keep, e, query: keep[i] != 0) }
        var a = UnsafePointer(p)
        if dropping, let r = dropoutFactors.map({ $0 + pair * length * length }) {
            var draws = Random(seed: stepSeed &+ UInt64(pair))
            let scale = 1 / (1 - rate), dropped = scratch + worker * 2 * length * length
            for i in 0..<e {
                for j in 0..<e {
                    r[i * length + j] = draws.uniform() >= rate ? scale : 0
                    dropped[i * length + j] = p[i * length + j] * r[i * length + j]
                }
            }
            a = UnsafePointer(dropped)
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(e), Int32(dh), Int32(e), 1, a, Int32(length),
                    x + 2 * d, Int32(3 * d), 0, ctx, Int32(d))
    }

    private func backward(_ pair: Int, worker: Int) {
        guard let dqkv = input.grad, let dout = output.grad else { return }
        let (n, h, d, dh, length) = (pair / heads, pair % heads, features, headWidth, length)
        let e = mask.extent(n)
        guard e > 0 else { return }
        let x = input.data + n * length * 3 * d + h * dh, dx = dqkv + n * length * 3 * d + h * dh
        let dctx = dout + n * length * d + h * dh
        let p = probabilities + pair * length * length
        let a = scratch + worker * 2 * length * length, ds = a + length * length
        let scale = 1 / Float(dh).squareRoot()
        // da = dctx · vᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(e), Int32(e), Int32(dh), 1, dctx, Int32(d),
                    x + 2 * d, Int32(3 * d), 0, ds, Int32(length))
        let r = dropping ? dropoutFactors.map { $0 + pair * length * length } : nil
        if let r {
            for i in 0..<e {
                for j in 0..<e {
                    a[i * length + j] = p[i * length + j] * r[i * length + j]
                    ds[i * length + j] *= r[i * length + j]
                }
            }
        }
        // dv += aᵀ · dctx
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(e), Int32(dh), Int32(e), 1, r == nil ? p : a,
                    Int32(length), dctx, Int32(d), 1, dx + 2 * d, Int32(3 * d))
        for i in 0..<e {
            let pi = p + i * length, row = ds + i * length
            var dot: Float = 0
            for j in 0..<e { dot += pi[j] * row[j] }
            for j in 0..<e { row[j] = pi[j] * (row[j] - dot) }
        }
        // dq += ds · k / √Dh, dk += dsᵀ · q / √Dh
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(e), Int32(dh), Int32(e), scale, ds, Int32(length),
                    x + d, Int32(3 * d), 1, dx, Int32(3 * d))
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(e), Int32(dh), Int32(e), scale, ds, Int32(length),
                    x, Int32(3 * d), 1, dx + d, Int32(3 * d))
    }

    /// One row of scores to probabilities over the kept keys among the first `e`, stably (the
    /// largest score subtracted first); a padded query's row, or one without a kept key, is 0.
    private func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, _ keep: UnsafePointer<Float>, _ e: Int, query: Bool) {
        var largest = -Float.infinity
        if query { for j in 0..<e where keep[j] != 0 { largest = max(largest, row[j]) } }
        guard largest > -Float.infinity else {
            row.update(repeating: 0, count: e)
            return
        }
        var sum: Float = 0
        for j in 0..<e {
            row[j] = keep[j] != 0 ? expf(row[j] - largest) : 0
            sum += row[j]
        }
        let inverse = 1 / sum
        for j in 0..<e { row[j] *= inverse }
    }

    /// Four products of e × e × Dh each way per pair (two forward, four backward), at e = L.
    func flops(batch: Int) -> Double {
        Double(batch * heads) * 6 * 2 * Double(length * length * headWidth)
    }
}

extension PlanBuilder {
    /// Multi-head self-attention over `input` (L, D): one dense layer to queries, keys and
    /// values (`<name>.qkv`, weight (3D, D)), the masked attention, and one dense layer back
    /// to D (`<name>.out`); padded positions give zeros. `dropout` drops attention weights in
    /// training.
    public func multiHeadAttention(_ input: Tensor, heads: Int, mask: SequenceMask, dropout: Float = 0,
                                   initialization: WeightScheme = .torch, name: String) -> Tensor {
        let (length, d) = (input.shape[0], input.shape[1])
        precondition(d % heads == 0, "\(d) features do not split into \(heads) heads")
        let qkv = dense(input, units: 3 * d, initialization: initialization, name: "\(name).qkv")
        let context = tensor(input.shape)
        let blocks = maxBatch * heads * length * length
        add(AttentionOp(input: qkv, output: context, mask: mask, heads: heads, rate: dropout, probabilities: scratch(blocks),
                        dropoutFactors: dropout > 0 ? scratch(blocks) : nil,
                        scratch: scratch(pool.threads * 2 * length * length), pool: pool, stream: nextOpSeed()))
        // The projection's bias would land on the padded positions; they stay zero.
        return zeroPadded(dense(context, units: d, initialization: initialization, name: "\(name).out"), mask: mask)
    }
}
