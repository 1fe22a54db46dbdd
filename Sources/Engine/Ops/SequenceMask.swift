// Which positions of a batch of sequences hold tokens.
//
// A tokens input is right-padded with id 0 to its length L. The embedding turns ids into
// vectors, and from then on nothing in a sequence's values says where the padding is; yet
// attention must not attend to it, a pool must not average it, conv1d must read it as zeros
// and a token-level loss must not count it. So the mask is computed once per step, from the
// ids, by an op placed right after the input (`SequenceMaskOp`), and is a value of the plan of
// its own: the compiler hands the same `SequenceMask` to every op that reads a sequence
// descending from that input, the way it hands them their input tensor. The alternative, a
// mask carried inside every tensor, would burden every op with a field only five use.

/// The padding of a batch of sequences of `length` positions, as two views written together:
/// `keep`, a 0/1 tensor (N, L) that a loss can use as its mask, and `extents`, per sample one
/// past the last position that holds a token (0 for an empty text), which bounds the loops
/// and the matrix products of the ops that read it.
public final class SequenceMask {
    public let length: Int
    /// (N, L): 1 where the position holds a token, 0 at padding.
    public let keep: Tensor
    /// (N): one past the last position with keep 1.
    let extents: UnsafeMutablePointer<Int32>

    init(length: Int, keep: Tensor, extents: UnsafeMutablePointer<Int32>) {
        self.length = length
        self.keep = keep
        self.extents = extents
    }

    /// Sample n's keep row.
    func keep(_ n: Int) -> UnsafeMutablePointer<Float> { keep.data + n * length }
    func extent(_ n: Int) -> Int { Int(extents[n]) }
}

/// keep[n, t] = (ids[n, t] ≠ 0); extents[n] = 1 + the last t with keep 1, else 0. No gradient.
final class SequenceMaskOp: Op {
    let ids: Tensor
    let mask: SequenceMask
    var inputs: [Tensor] { [] }

    init(ids: Tensor, mask: SequenceMask) {
        self.ids = ids
        self.mask = mask
    }

    func forward(batch: Int, mode: PassMode) {
        let length = mask.length
        for n in 0..<batch {
            let row = ids.data + n * length, keep = mask.keep(n)
            var extent: Int32 = 0
            for t in 0..<length {
                let isToken = Int(row[t].rounded()) != 0
                keep[t] = isToken ? 1 : 0
                if isToken { extent = Int32(t + 1) }
            }
            mask.extents[n] = extent
        }
    }

    func backward(batch: Int) {}
}

/// Zeroes a sequence's padded positions in place: in forward their values, in backward their
/// gradient (the values are then constants). Placed right after the op that writes the
/// sequence (attention's output projection, whose bias would otherwise land there), before
/// anything reads it; it touches the padded rows only.
final class ZeroPaddedPositionsOp: Op {
    let sequence: Tensor
    let mask: SequenceMask
    var inputs: [Tensor] { [] }

    init(sequence: Tensor, mask: SequenceMask) {
        self.sequence = sequence
        self.mask = mask
    }

    func forward(batch: Int, mode: PassMode) { zero(sequence.data, batch) }

    func backward(batch: Int) { if let grad = sequence.grad { zero(grad, batch) } }

    private func zero(_ values: UnsafeMutablePointer<Float>, _ batch: Int) {
        let (length, width) = (mask.length, sequence.sampleSize / mask.length)
        for n in 0..<batch {
            let keep = mask.keep(n)
            for t in 0..<length where keep[t] == 0 { (values + (n * length + t) * width).update(repeating: 0, count: width) }
        }
    }
}

extension PlanBuilder {
    /// The padding of `ids` (one id per position, 0 for padding), recomputed each forward pass.
    public func sequenceMask(_ ids: Tensor) -> SequenceMask {
        let mask = SequenceMask(length: ids.sampleSize, keep: tensor(ids.shape, gradient: false),
                                extents: arena.int32s(maxBatch))
        add(SequenceMaskOp(ids: ids, mask: mask))
        return mask
    }

    /// `sequence` with its padded positions zeroed, in place (the same tensor).
    func zeroPadded(_ sequence: Tensor, mask: SequenceMask) -> Tensor {
        add(ZeroPaddedPositionsOp(sequence: sequence, mask: mask))
        return sequence
    }

    /// Sequences of `length` positions without padding: every position holds a token.
    public func unpaddedMask(length: Int) -> SequenceMask {
        let keep = tensor([length], gradient: false)
        keep.data.update(repeating: 1, count: maxBatch * length)
        let extents = arena.int32s(maxBatch)
        extents.update(repeating: Int32(length), count: maxBatch)
        return SequenceMask(length: length, keep: keep, extents: extents)
    }
}
