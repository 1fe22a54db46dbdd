/// A compiled network: a flat list of ops over buffers allocated once, sized for `maxBatch`.
///
/// `forward` walks the ops in order, `backward` walks them in reverse after zeroing every
/// gradient; nothing is allocated, looked up or copied on the way. This is reverse-mode
/// autograd with the graph fixed at build time, which is what a static flow allows.
public final class Plan {
    public let maxBatch: Int
    public let ops: [any Op]
    /// The ops backward runs, last first: every op but those built without gradients.
    public let backwardOps: [any Op]
    public let parameters: [Parameter]
    public let groups: [ParameterGroup]
    /// Non-learned state saved with the weights (batchnorm running statistics).
    public let state: [StateTensor]
    /// The loss ops, whose weighted sum backward differentiates.
    public let losses: [any LossOp]
    /// The ops with a generator of their own.
    private let seededOps: [any SeededOp]
    /// All parameter values, then all gradients, each `parameterCount` floats, in the order of
    /// `parameters`: the optimiser's flat loops run over these.
    public let values: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    public let parameterCount: Int
    /// Values of the trainable parameters, which come first in the block: what an optimiser
    /// keeps state for.
    public let trainableCount: Int
    /// The threads the plan's loops run on (the optimiser's too).
    public let pool: ThreadPool
    /// Bytes of every buffer the plan allocated (activations, gradients, scratch, parameters).
    public var bufferBytes: Int { arena.bytes }

    let arena: Arena
    /// Clears the parameter gradients and the gradients of every tensor that has one.
    private let zeroing: GradientZeroing
    /// The trainable gradients' sum of squares and scaling, for clipping.
    let gradientSquares: GradientSquares

    init(assignedGradients: Set<UnsafeMutablePointer<Float>>, maxBatch: Int, pool: ThreadPool, ops: [any Op],
         backwardOps: [any Op], parameters: [Parameter], groups: [ParameterGroup], state: [StateTensor],
         tensors: [Tensor], arena: Arena, values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
         parameterCount: Int) {
        self.maxBatch = maxBatch
        self.ops = ops
        self.backwardOps = backwardOps
        trainableCount = parameters.filter { !groups[$0.group].frozen }.reduce(0) { $0 + $1.count }
        self.parameters = parameters
        self.groups = groups
        self.state = state
        self.losses = ops.compactMap { $0 as? any LossOp }
        seededOps = ops.compactMap { $0 as? any SeededOp }
        self.pool = pool
        zeroing = GradientZeroing(pool: pool, gradients: gradients, parameterCount: parameterCount,
                                  tensors: tensors.filter { tensor in
                                      tensor.grad.map { !tensor.isView && !assignedGradients.contains($0) } ?? false
                                  })
        gradientSquares = GradientSquares(pool: pool, gradients: gradients, count: trainableCount,
                                          blockSums: arena.doubles(GradientSquares.blockCount(trainableCount)))
        self.arena = arena
        self.values = values
        self.gradients = gradients
        self.parameterCount = parameterCount
    }

    /// A pass over the first `batch` samples. A batch may be empty (a part of a batch split
    /// across processes can be): its losses are 0 over no rows, and backward's gradients zero.
    public func forward(batch: Int, mode: PassMode) {
        precondition(batch >= 0 && batch <= maxBatch, "batch \(batch) outside 0...\(maxBatch)")
        for op in ops { op.forward(batch: batch, mode: mode) }
    }

    /// Gradients of Σ weight × loss with respect to every parameter, after `forward`.
    public func backward(batch: Int) {
        zeroGradients(batch: batch)
        for op in backwardOps { op.backward(batch: batch) }
    }

    /// Ops add into their inputs' gradients, so those start at zero each step: tens of
    /// megabytes for a conv net, cleared by every thread of the pool, a slice of each buffer
    /// each. Gradients their only writer assigns (`GradientAssigning`) are left alone.
    private func zeroGradients(batch: Int) {
        zeroing.batch = batch
        zeroing.pool.parallelFor(zeroing.pool.threads, costPerItem: 1 << 20, zeroing)
    }

    /// Restarts every op-owned generator (dropout) from `seed`, as building the plan did, so
    /// that passes can be repeated exactly (gradient checks), or drawn from a seed that the
    /// step's place alone decides (training split across processes).
    public func reseedOps(_ seed: UInt64) {
        for op in seededOps { op.reseed(planSeed: seed) }
    }

    /// The states of the ops' own generators (dropout masks), in op order: with the parameters,
    /// the running statistics and the optimiser's state, what a resumed run needs to continue
    /// exactly as an uninterrupted one.
    public var generatorStates: [[UInt64]] {
        get { ops.compactMap { ($0 as? SeededOp)?.random.state } }
        set {
            var states = newValue.makeIterator()
            for case let op as SeededOp in ops {
                if let state = states.next(), let random = Random(state: state) { op.random = random }
            }
        }
    }

    /// The first parameter whose gradient holds a NaN or an infinity, if any (after backward).
    public func parameterWithNonFiniteGradient() -> Parameter? {
        parameters.first { p in
            (0..<p.count).contains { !p.grad[$0].isFinite }
        }
    }

    /// Tells the ops that keep statistics per training epoch (loss balancers) that one ended:
    /// call after its last training step, before saving a checkpoint.
    public func endEpoch() {
        for case let op as any EpochObserver in ops { op.endEpoch() }
    }

    /// Σ weight × loss of the last forward pass.
    public var totalLoss: Float {
        losses.reduce(0) { $0 + $1.weight * $1.loss }
    }

    /// Floating-point operations of one training step (forward and backward) at `batch`.
    public func flops(batch: Int) -> Double {
        ops.reduce(0) { $0 + $1.flops(batch: batch) }
    }
}

/// A named buffer that is not learned but belongs with the weights (running statistics).
public struct StateTensor {
    public let name: String
    public let shape: [Int]
    public let data: UnsafeMutablePointer<Float>
}

extension Plan {
    /// Seconds spent in each op's forward and backward over `steps` training passes, and the
    /// floating-point operations of one pass of each (forward and backward, as `flops` counts
    /// them), for finding where a step's time goes (`flowtrain bench --profile`); a last row
    /// holds the zeroing of the gradients before backward.
    public func profile(batch: Int, steps: Int) -> [(op: String, forward: Double, backward: Double, flops: Double)] {
        let backwardIdentities = Set(backwardOps.map { ObjectIdentifier($0) })
        var forward = [Double](repeating: 0, count: ops.count)
        var backward = [Double](repeating: 0, count: ops.count)
        var zeroing = 0.0
        func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        for _ in 0..<steps {
            for (index, op) in ops.enumerated() {
                let start = now()
                op.forward(batch: batch, mode: .training)
                forward[index] += now() - start
            }
            let start = now()
            zeroGradients(batch: batch)
            zeroing += now() - start
            for (index, op) in ops.enumerated().reversed() where backwardIdentities.contains(ObjectIdentifier(op)) {
                let start = now()
                op.backward(batch: batch)
                backward[index] += now() - start
            }
        }
        return ops.enumerated().map { index, op in
            ("\(index) \(type(of: op))", forward[index], backward[index], op.flops(batch: batch))
        } + [("zeroing the gradients", 0, zeroing, 0)]
    }
}

import Dispatch

/// Zeroes the gradient buffers before backward: worker w clears the w-th slice of each buffer
/// (the parameter block, then every tensor's first `batch` samples).
final class GradientZeroing: ParallelLoop {
    let pool: ThreadPool
    let gradients: UnsafeMutablePointer<Float>
    let parameterCount: Int
    /// Each tensor's gradient and floats per sample.
    let buffers: [(UnsafeMutablePointer<Float>, Int)]
    var batch = 0

    init(pool: ThreadPool, gradients: UnsafeMutablePointer<Float>, parameterCount: Int, tensors: [Tensor]) {
        self.pool = pool
        self.gradients = gradients
        self.parameterCount = parameterCount
        buffers = tensors.map { ($0.grad!, $0.sampleSize) }
    }

    func run(_ items: Range<Int>, part: OnlyPart, worker: Int) {
        let parts = pool.threads
        func clear(_ buffer: UnsafeMutablePointer<Float>, _ count: Int) {
            for slice in items {
                let start = count * slice / parts, end = count * (slice + 1) / parts
                (buffer + start).update(repeating: 0, count: end - start)
            }
        }
        clear(gradients, parameterCount)
        for (buffer, size) in buffers { clear(buffer, batch * size) }
    }
}
