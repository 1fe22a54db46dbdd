/// A value in a compiled plan: storage for up to `maxBatch` samples of `shape`, and, when a
/// gradient flows into it, a gradient buffer of the same size. Samples are contiguous, so the
/// first `batch × sampleSize` floats are the live part of a smaller batch.
///
/// Tensors do not own memory: the plan's `Arena` does, and frees it with the plan.
public final class Tensor {
    /// The shape of one sample (images are height × width × channels).
    public let shape: [Int]
    public let sampleSize: Int
    public let maxBatch: Int
    public let data: UnsafeMutablePointer<Float>
    /// Nil for values no gradient is needed for (data inputs, targets, masks).
    public let grad: UnsafeMutablePointer<Float>?
    /// True when this tensor shares another's memory (flatten); its gradient is zeroed there.
    public let isView: Bool

    init(shape: [Int], maxBatch: Int, data: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>?,
         isView: Bool = false) {
        self.shape = shape
        self.sampleSize = shape.reduce(1, *)
        self.maxBatch = maxBatch
        self.data = data
        self.grad = grad
        self.isView = isView
    }

    /// The live values of a batch, for reading results and writing inputs.
    public func values(batch: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: batch * sampleSize)
    }

    public func gradients(batch: Int) -> UnsafeMutableBufferPointer<Float>? {
        grad.map { UnsafeMutableBufferPointer(start: $0, count: batch * sampleSize) }
    }
}

/// Owns every buffer of a plan: allocated once when the plan is built, 64-byte aligned for
/// vector loads, freed together when the plan goes away.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private(set) var bytes = 0

    /// `count` zeroed floats.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> { zeroed(count, as: Float.self) }

    /// `count` zeroed doubles (partial sums).
    func doubles(_ count: Int) -> UnsafeMutablePointer<Double> { zeroed(count, as: Double.self) }

    /// `count` zeroed 32-bit integers (argmax indices of max pooling).
    func int32s(_ count: Int) -> UnsafeMutablePointer<Int32> { zeroed(count, as: Int32.self) }

    private func zeroed<T: Numeric>(_ count: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        let byteCount = max(count, 1) * MemoryLayout<T>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        raw.initializeMemory(as: T.self, repeating: 0, count: max(count, 1))
        blocks.append(raw)
        bytes += byteCount
        return raw.assumingMemoryBound(to: T.self)
    }

    deinit {
        for block in blocks { block.deallocate() }
    }
}
