import Engine
import FlowSpec

/// BERT's masking of a tokens input for a masked language model (docs/semantics.md, "Masked
/// language models"): of the tokens of a row the task counts on, each is chosen with
/// probability `rate`; a chosen token becomes `<mask>` (80%), a random token of the vocabulary
/// (10%), or stays (10%), and its original id becomes the target at that position.
///
/// It runs on a batch right after it is loaded, in the input tensor the embedding reads, so
/// every task of the step sees the masked text. The draws for a row are a function of the
/// seed, the row's index in its whole split (over every process's parts) and the epoch alone
/// (a fixed stream in evaluation): a resumed run, a run on several processes and one alone
/// mask alike, and validation masks the same tokens every epoch.
struct TokenMasking {
    /// The input's ids (N, L), and the task's targets and mask (N, L).
    let ids: UnsafeMutablePointer<Float>
    let targets: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>
    let length: Int
    let rate: Float
    let vocabulary: Int

    /// Masks sample `b` of the batch, split row `row`, in place; `epoch` nil: evaluation's
    /// fixed masking. On entry the mask holds the rows the task counts on (1 on every position
    /// of such a row); on exit the positions it masked.
    func apply(sample b: Int, row: Int, seed: Int, epoch: Int?) {
        var random = Random(seed: (UInt64(bitPattern: Int64(seed)) &+ 0x3A5C_0DE5)
            ^ (UInt64(epoch.map { $0 + 1 } ?? 0) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(row) &* 0xC2B2_AE3D_27D4_EB4F))
        let ids = self.ids + b * length, targets = self.targets + b * length, mask = self.mask + b * length
        let randomTokens = vocabulary - TokenSettings.reserved.count
        for t in 0..<length {
            let id = ids[t]
            guard id != Float(TokenSettings.paddingID), mask[t] != 0, random.uniform() < rate else {
                targets[t] = -1
                mask[t] = 0
                continue
            }
            targets[t] = id
            let share = random.uniform()
            if share < MaskedLanguageModel.maskShare {
                ids[t] = Float(TokenSettings.maskID)
            } else if share < MaskedLanguageModel.maskShare + MaskedLanguageModel.randomShare, randomTokens > 0 {
                ids[t] = Float(TokenSettings.reserved.count + min(Int(random.uniform() * Float(randomTokens)), randomTokens - 1))
            }
        }
    }

    /// Sample `b` unmasked: no position counts (a pass for the other tasks).
    func clear(sample b: Int) {
        (targets + b * length).update(repeating: -1, count: length)
        (mask + b * length).update(repeating: 0, count: length)
    }
}
