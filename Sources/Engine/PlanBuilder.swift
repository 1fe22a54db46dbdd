/// Builds a `Plan`: each layer method adds an op and returns the tensor it writes. Parameters
/// are collected as they are declared and placed in one block when `build` runs.
///
///     let builder = PlanBuilder(maxBatch: 64)
///     let x = builder.input([128])
///     let h = builder.relu(builder.dense(x, units: 512, name: "trunk.0"))
///     let plan = builder.build(seed: 1)
public final class PlanBuilder {
    public let maxBatch: Int
    /// The threads the plan's parallel loops run on.
    public let pool: ThreadPool
    let arena = Arena()
    private(set) var ops: [any Op] = []
    private(set) var tensors: [Tensor] = []
    private(set) var parameters: [Parameter] = []
    private(set) var state: [StateTensor] = []
    private(set) var groups = [ParameterGroup(name: "default")]
    /// The group new parameters join; see `beginGroup`.
    private var currentGroup = 0
    /// Seeds op-owned generators (dropout) in declaration order.
    private var opSeeds: UInt64 = 0
    /// Inside `withoutGradients`: tensors get no gradient and ops no backward pass.
    private var gradientFreeDepth = 0
    private var forwardOnly = Set<ObjectIdentifier>()

    public init(maxBatch: Int, pool: ThreadPool = .shared) {
        precondition(maxBatch >= 1)
        self.maxBatch = maxBatch
        self.pool = pool
    }

    /// A tensor the caller fills before each forward pass (data, targets, masks); no gradient.
    public func input(_ shape: [Int]) -> Tensor {
        tensor(shape, gradient: false)
    }

    /// Parameters declared from now on join `group` (a learning-rate scale, a frozen flag).
    public func beginGroup(_ group: ParameterGroup) {
        if let index = groups.firstIndex(of: group) {
            currentGroup = index
        } else {
            groups.append(group)
            currentGroup = groups.count - 1
        }
    }

    /// Layers built in `body` run forward only: their tensors have no gradient and backward
    /// skips their ops. For a frozen part of the network that nothing trainable feeds (a
    /// pretrained trunk on the inputs): its gradients would be computed only to be dropped.
    /// Its parameters must be in a frozen group.
    public func withoutGradients<T>(_ body: () -> T) -> T {
        gradientFreeDepth += 1
        defer { gradientFreeDepth -= 1 }
        return body()
    }

    /// A new activation tensor for up to `maxBatch` samples.
    func tensor(_ shape: [Int], gradient: Bool = true) -> Tensor {
        let size = maxBatch * shape.reduce(1, *)
        let result = Tensor(shape: shape, maxBatch: maxBatch, data: arena.floats(size),
                            grad: gradient && gradientFreeDepth == 0 ? arena.floats(size) : nil)
        tensors.append(result)
        return result
    }

    /// The same memory seen with another per-sample shape (flatten: NHWC is already flat).
    public func view(_ tensor: Tensor, as shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == tensor.sampleSize)
        let result = Tensor(shape: shape, maxBatch: maxBatch, data: tensor.data, grad: tensor.grad, isView: true)
        tensors.append(result)
        return result
    }

    /// Takes a tensor built outside `tensor(_:)` into the plan, so that its gradient is zeroed
    /// before each backward pass.
    func adopt(_ tensor: Tensor) { tensors.append(tensor) }

    func parameter(_ name: String, _ shape: [Int], _ initialization: Initialization) -> Parameter {
        let parameter = Parameter(name: name, shape: shape, initialization: initialization, group: currentGroup)
        parameters.append(parameter)
        return parameter
    }

    func stateTensor(_ name: String, _ shape: [Int], initial: Float) -> UnsafeMutablePointer<Float> {
        let count = shape.reduce(1, *)
        let data = arena.floats(count)
        data.update(repeating: initial, count: count)
        state.append(StateTensor(name: name, shape: shape, data: data))
        return data
    }

    /// Scratch floats for one op (im2col columns, saved statistics).
    func scratch(_ count: Int) -> UnsafeMutablePointer<Float> { arena.floats(count) }

    /// A fresh seed for an op's own generator, so that ops draw independent streams.
    func nextOpSeed() -> UInt64 {
        opSeeds += 1
        return opSeeds
    }

    public func add(_ op: any Op) {
        ops.append(op)
        if gradientFreeDepth > 0 { forwardOnly.insert(ObjectIdentifier(op)) }
    }

    /// Places every parameter in one block, draws initial values from `seed`, and returns the
    /// plan. The builder must not be used afterwards.
    public func build(seed: UInt64) -> Plan {
        // Trainable parameters first: the optimisers keep state for that prefix of the block only.
        parameters = parameters.filter { !groups[$0.group].frozen } + parameters.filter { groups[$0.group].frozen }
        var offset = 0
        for parameter in parameters {
            parameter.offset = offset
            offset += parameter.count
        }
        let values = arena.floats(offset)
        let gradients = arena.floats(offset)
        var random = Random(seed: seed)
        for parameter in parameters {
            parameter.value = values + parameter.offset
            parameter.grad = gradients + parameter.offset
            parameter.frozen = groups[parameter.group].frozen
            initialize(parameter, &random)
        }
        for op in ops { (op as? SeededOp)?.reseed(planSeed: seed) }
        // A gradient with one writer that can assign it needs no zeroing (views share their
        // base's gradient, so writers are counted per gradient buffer).
        var writers: [UnsafeMutablePointer<Float>: Int] = [:]
        for op in ops {
            for input in op.inputs { if let grad = input.grad { writers[grad, default: 0] += 1 } }
        }
        var assigned = Set<UnsafeMutablePointer<Float>>()
        for case let op as any GradientAssigning in ops {
            guard op.canAssignInputGradient, let grad = op.input.grad, writers[grad] == 1 else { continue }
            op.assignsInputGradient = true
            assigned.insert(grad)
        }
        return Plan(assignedGradients: assigned, maxBatch: maxBatch, pool: pool, ops: ops,
                    backwardOps: ops.filter { !forwardOnly.contains(ObjectIdentifier($0)) }.reversed(),
                    parameters: parameters, groups: groups, state: state, tensors: tensors, arena: arena, values: values,
                    gradients: gradients, parameterCount: offset)
    }

    private func initialize(_ parameter: Parameter, _ random: inout Random) {
        let values = UnsafeMutableBufferPointer(start: parameter.value, count: parameter.count)
        switch parameter.initialization {
        case .uniform(let limit):
            for i in values.indices { values[i] = limit * (2 * random.uniform() - 1) }
        case .normal(let std):
            for i in values.indices { values[i] = std * random.normal() }
        case .constant(let value):
            values.update(repeating: value)
        }
    }
}

/// An op with a generator of its own (dropout), seeded at build time from the plan's seed and
/// the op's stream number (`PlanBuilder.nextOpSeed`), so streams differ between ops.
protocol SeededOp: Op {
    func reseed(planSeed: UInt64)
    /// The op's generator, saved and restored with a checkpoint.
    var random: Random { get set }
}
