import Engine
import FlowSpec
import Tasks

/// Compiles a resolved flow into an engine plan: inputs, trunk branches in dependency order,
/// then each task's head, output layer and fused masked loss.
///
/// Parameter names, as they appear in `model.safetensors`, say where each tensor sits:
/// `inputs.<input>.embedding.weight`, `inputs.<input>.piecewise_linear.weight` and
/// `inputs.<input>.periodic.frequencies` (numeric encodings), `trunk.<branch>.<index>.<layer>.weight` (e.g.
/// `trunk.features.3.dense.weight`), `heads.<task path>.<index>.<layer>.weight` for hidden head
/// layers and `heads.<task path>.out.weight` for the output layer (and `.bias` unless the layer
/// has none; batchnorm adds `.running_mean` and `.running_var`). The layers of a residual block
/// at index i are `<prefix>.<i>.residual.<j>.<layer>`, those of its shortcut
/// `<prefix>.<i>.residual.shortcut.<j>.<layer>`, built after the block's.
public struct ModelCompiler {
    let flow: ResolvedFlow
    let facts: DataFacts
    let builder: PlanBuilder
    /// The tokens input behind each tensor of token ids, for its vocabulary size.
    private var tokenInput: [ObjectIdentifier: String] = [:]
    /// The padding of each tokens input, and of each branch whose output descends from one
    /// alone: what attention, conv1d and pool read (docs/engine.md, "Sequences and padding").
    private var masks: [String: SequenceMask] = [:]
    /// Each layer with a weight as built: its name and the tensor that holds its output (after
    /// the activation following it), for `CompiledModel.layers`.
    private var watched: [(name: String, output: Tensor)] = []

    public static func compile(_ flow: ResolvedFlow, facts: DataFacts, maxBatch: Int, seed: UInt64) -> CompiledModel {
        var compiler = ModelCompiler(flow: flow, facts: facts, builder: PlanBuilder(maxBatch: maxBatch))
        return compiler.compile(seed: seed)
    }

    private init(flow: ResolvedFlow, facts: DataFacts, builder: PlanBuilder) {
        self.flow = flow
        self.facts = facts
        self.builder = builder
    }

    private mutating func compile(seed: UInt64) -> CompiledModel {
        var inputs: [String: Tensor] = [:]
        var values: [String: Tensor] = [:]
        for resolved in flow.inputs {
            let input = resolved.input
            let vocabulary = facts.vocabularySize[input.name] ?? 1
            switch input.kind {
            case let .image(h, w, c, _):
                let pixels = builder.input([h, w, c])
                inputs[input.name] = pixels
                values[input.name] = input.imageNormalization.map { n in
                    builder.channelNormalization(pixels, mean: n.mean.map { Float($0) }, std: n.std.map { Float($0) })
                } ?? pixels
            case .numeric:
                let x = builder.input([facts.numericWidth[input.name] ?? 0])
                inputs[input.name] = x
                values[input.name] = encode(x, input)
            case .tokens(let settings):
                let ids = builder.input([settings.maxLength])
                tokenInput[ObjectIdentifier(ids)] = input.name
                inputs[input.name] = ids
                values[input.name] = ids
                masks[input.name] = builder.sequenceMask(ids)
            case .category(.oneHot, _):
                inputs[input.name] = builder.input([vocabulary])
                values[input.name] = inputs[input.name]
            case .category(.embedding(let width), _):
                let ids = builder.input([1])
                inputs[input.name] = ids
                let table = builder.embedding(ids, vocabulary: vocabulary, dimension: width,
                                              initialization: scheme(nil), name: "inputs.\(input.name).embedding")
                watched.append(("inputs.\(input.name).embedding", table))
                values[input.name] = builder.flatten(table)
            }
        }
        for branch in flow.branches {
            let sources = branch.branch.sources.compactMap { values[$0.value] }
            let name = branch.branch.name
            // Several sources are concatenated into a vector, which has no positions.
            let mask = sources.count == 1 ? branch.branch.sources.first.flatMap { masks[$0.value] } : nil
            masks[name] = mask
            func build(_ compiler: inout ModelCompiler) -> Tensor {
                let x = sources.count == 1 ? sources[0] : compiler.builder.concat(sources)
                return compiler.apply(branch.branch.layers, to: x, mask: mask, prefix: "trunk.\(name)")
            }
            if branch.branch.trainable {
                values[name] = build(&self)
            } else {
                // A frozen branch that only inputs and other frozen branches feed runs forward
                // only; one fed by a trainable branch passes gradients through to it.
                builder.beginGroup(ParameterGroup(name: "trunk.\(name)", frozen: true))
                if sources.allSatisfy({ $0.grad == nil }) {
                    var compiler = self
                    values[name] = builder.withoutGradients { build(&compiler) }
                    self = compiler
                } else {
                    values[name] = build(&self)
                }
                builder.beginGroup(ParameterGroup(name: "default"))
            }
        }
        // GradNorm measures each task's gradient at its branch: the tasks reading that branch get
        // a tap each (and are not fused, so that their gradients stay apart).
        var taps = [Tensor?](repeating: nil, count: flow.tasks.count)
        if let branch = flow.gradNormBranch, let shared = values[branch] {
            let readers = flow.tasks.indices.filter { flow.tasks[$0].inputName == branch }
            for (index, tap) in zip(readers, builder.gradientTaps(shared, count: readers.count)) { taps[index] = tap }
        }
        let fused = fuseFirstLayers(values, skipping: taps)
        var tasks: [CompiledTask] = []
        var taskTaps: [Tensor?] = []
        var tokenMasking: [TokenMasking] = []
        for (index, task) in flow.tasks.enumerated() {
            guard let input = taps[index] ?? values[task.inputName] else { continue }
            let prefix = "heads.\(task.path)"
            let first = fused[index]
            let hidden = task.spec.head.isEmpty ? input
                : apply(task.spec.head, to: first ?? input, mask: masks[task.inputName], prefix: prefix,
                        from: first == nil ? 0 : 1)
            let output = TaskOutput(task, facts: facts)
            let padding = task.tokensInput.flatMap { masks[$0]?.keep }
            if task.spec.type == .maskedLanguageModel {
                let targets = builder.input(output.targetShape), mask = builder.input(output.maskShape)
                let (out, loss) = builder.maskedTokenPrediction(hidden, vocabulary: output.classCount, targets: targets,
                                                                mask: mask, weight: Float(task.spec.weight),
                                                                initialization: scheme(nil), name: "\(prefix).out")
                if let name = task.tokensInput, let ids = inputs[name] {
                    tokenMasking.append(TokenMasking(ids: ids.data, targets: targets.data, mask: mask.data,
                                                     length: output.positions, rate: Float(task.spec.maskRate),
                                                     vocabulary: output.classCount))
                }
                tasks.append(CompiledTask(task: task, output: output, logits: out, targets: targets, mask: mask, loss: loss,
                                          padding: padding))
                taskTaps.append(taps[index])
                continue
            }
            var logits: Tensor
            if task.spec.head.isEmpty, let first {
                logits = first
            } else {
                logits = builder.dense(hidden, units: output.units, initialization: scheme(nil), name: "\(prefix).out")
                watched.append(("\(prefix).out", logits))
            }
            let targets = builder.input(output.targetShape), mask = builder.input(output.maskShape)
            let loss = output.addLoss(to: builder, logits: logits, targets: targets, mask: mask, spec: task.spec)
            tasks.append(CompiledTask(task: task, output: output, logits: logits, targets: targets, mask: mask, loss: loss,
                                      padding: padding))
            taskTaps.append(taps[index])
        }
        switch flow.flow.training.lossWeighting {
        case .fixed: break
        case .uncertainty: builder.uncertaintyWeighting(tasks.map(\.loss), name: "loss_weighting.log_variance")
        case .dwa(let temperature):
            builder.dynamicWeightAverage(tasks.map(\.loss), temperature: Float(temperature), name: "loss_weighting.dwa")
        case let .gradnorm(alpha, rate, _):
            if taskTaps.contains(where: { $0 != nil }) {
                builder.gradNorm(tasks.map(\.loss), taps: taskTaps, alpha: Float(alpha), rate: Float(rate),
                                 name: "loss_weighting.gradnorm")
            }
        }
        let kinds = Dictionary(flow.inputs.map { ($0.input.name, $0.input.kind) }, uniquingKeysWith: { a, _ in a })
        let plan = builder.build(seed: seed)
        let weights = Dictionary(plan.parameters.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let layers = watched.compactMap { layer in
            weights[layer.name + ".weight"].map { WatchedLayer(name: layer.name, output: layer.output, weight: $0) }
        }
        let branches = Dictionary(flow.branches.compactMap { branch in values[branch.branch.name].map { (branch.branch.name, $0) } },
                                  uniquingKeysWith: { a, _ in a })
        return CompiledModel(plan: plan, inputs: inputs, inputKinds: kinds, tasks: tasks, branches: branches, layers: layers,
                             tokenMasking: tokenMasking)
    }

    /// A numeric input's values through its `encoding:` (the indicators pass through).
    private mutating func encode(_ x: Tensor, _ input: Input) -> Tensor {
        let columns = facts.numericColumns[input.name] ?? 0
        switch input.numericEncoding {
        case nil:
            return x
        case let .piecewiseLinear(bins, dimension)?:
            let edges = facts.binEdges[input.name] ?? []
            let columnBins = (0..<columns).map { j in
                PiecewiseLinearBins(edges: j < edges.count ? Array(edges[j].prefix(bins + 1)) : [])
            }
            let name = "inputs.\(input.name).piecewise_linear"
            let encoded = builder.piecewiseLinearEncoding(x, bins: columnBins, slots: bins, dimension: dimension,
                                                          initialization: scheme(nil), name: name)
            if dimension != nil { watched.append((name, encoded)) }
            return encoded
        case let .periodic(frequencies, dimension, sigma)?:
            let name = "inputs.\(input.name).periodic"
            let encoded = builder.periodicEncoding(x, columns: columns, frequencies: frequencies, sigma: Float(sigma),
                                                   dimension: dimension, initialization: scheme(nil), name: name)
            watched.append((name, encoded))
            return encoded
        }
    }

    /// Heads on the same branch start with dense layers reading the same vector: the output
    /// layer of a head without hidden layers, or a head's first hidden layer. Those of each
    /// branch run as one product (`denseGroup`), under the names they would have alone; tasks with
    /// a GradNorm tap are left out. Per task (flow order): its first layer's output when fused,
    /// nil otherwise.
    private mutating func fuseFirstLayers(_ values: [String: Tensor], skipping taps: [Tensor?]) -> [Tensor?] {
        var groups: [String: [(task: Int, units: Int, initialization: WeightScheme, name: String)]] = [:]
        var order: [String] = []
        for (index, task) in flow.tasks.enumerated() where taps[index] == nil {
            guard let input = values[task.inputName], input.shape.count == 1 else { continue }
            let prefix = "heads.\(task.path)"
            let layer: (Int, WeightScheme, String)
            if let first = task.spec.head.first {
                guard case let .dense(units, true, initialization) = first.kind else { continue }
                layer = (units, scheme(initialization), "\(prefix).0.dense")
            } else {
                layer = (TaskOutput(task, facts: facts).units, scheme(nil), "\(prefix).out")
            }
            if groups[task.inputName] == nil { order.append(task.inputName) }
            groups[task.inputName, default: []].append((index, layer.0, layer.1, layer.2))
        }
        var fused = [Tensor?](repeating: nil, count: flow.tasks.count)
        for name in order {
            guard let members = groups[name], members.count > 1, let input = values[name] else { continue }
            let outputs = builder.denseGroup(input, units: members.map(\.units),
                                             initialization: members.map(\.initialization), names: members.map(\.name))
            for (member, output) in zip(members, outputs) {
                fused[member.task] = output
                watched.append((member.name, output))
            }
        }
        return fused
    }

    /// The engine's rule for a layer's first weights: its own `init:`, else the flow's `train.init`.
    private func scheme(_ initialization: WeightInit?) -> WeightScheme {
        switch initialization ?? flow.flow.training.initialization {
        case .he: .he
        case .glorot: .glorot
        case .lecun: .lecun
        case .torch: .torch
        }
    }

    /// The layers from `start` on, applied in order. Layer names keep their index in `layers`.
    /// `mask` is the padding of `input` when it is a sequence of a tokens input's positions.
    private mutating func apply(_ layers: [Layer], to input: Tensor, mask: SequenceMask?, prefix: String,
                                from start: Int = 0) -> Tensor {
        var x = input
        // Layers that ran inside the one before them (a ReLU, a ReLU and a pooling), still to skip.
        var fusedLayers = 0
        // Shape inference lets sequence layers read only the positions of a tokens input, whose
        // mask this is; a sequence of no tokens input would have no padding.
        let builder = self.builder
        func padding(of x: Tensor) -> SequenceMask { mask ?? builder.unpaddedMask(length: x.shape.first ?? 1) }
        // The watched layer whose output an activation right after it replaces: the previous
        // layer's, or, for a head whose first layer ran fused with others, that layer's.
        var watchedBefore = start > 0 ? watched.lastIndex { $0.output === input } : nil
        for (index, layer) in layers.enumerated() where index >= start {
            let name = "\(prefix).\(index).\(LayerDescription.name(layer.kind))"
            let following = layers.dropFirst(index + 1).prefix(2).map(\.kind)
            let next = following.first
            if fusedLayers > 0 {  // it ran inside the dense or batchnorm layer before it
                fusedLayers -= 1
                watchedBefore = nil
                continue
            }
            switch layer.kind {
            case let .dense(units, bias, initialization):
                // Nothing else reads the layer's output before its ReLU, so the two fuse (as
                // batchnorm and a ReLU after it do).
                if case .relu? = next { fusedLayers = 1 }
                x = builder.dense(x, units: units, bias: bias, initialization: scheme(initialization), relu: fusedLayers == 1,
                                  name: name)
            case let .conv(filters, kernel, stride, padding, bias, initialization):
                let enginePadding: ConvPadding = switch padding {
                case .same: .same
                case .zeros(let count): .zeros(count)
                }
                x = builder.conv2d(x, filters: filters, kernel: kernel, stride: stride, padding: enginePadding, bias: bias,
                                   initialization: scheme(initialization), name: name)
            case let .maxpool(size, stride, padding): x = builder.maxPool(x, size: size, stride: stride, padding: padding)
            case let .avgpool(size, stride): x = builder.avgPool(x, size: size, stride: stride)
            case .globalAvgpool: x = builder.globalAvgPool(x)
            case .relu: x = builder.relu(x)
            case .leakyRelu(let slope): x = builder.leakyReLU(x, slope: Float(slope))
            case .gelu: x = builder.gelu(x)
            case .tanh: x = builder.tanh(x)
            case .sigmoid: x = builder.sigmoid(x)
            case .dropout(let rate): x = builder.dropout(x, rate: Float(rate))
            case let .batchnorm(momentum, epsilon):
                if case .relu? = next { fusedLayers = 1 }
                // A 2 × 2 pooling whose windows tile the image joins them: the layer's watched
                // output is then the pooled one.
                if fusedLayers == 1, following.count == 2, case .maxpool(2, 2, 0) = following[1],
                   x.shape.count == 3, x.shape[0] % 2 == 0, x.shape[1] % 2 == 0 {
                    fusedLayers = 2
                    x = builder.batchNormReLUMaxPool(x, momentum: Float(momentum), epsilon: Float(epsilon), name: name)
                } else {
                    x = builder.batchNorm(x, momentum: Float(momentum), epsilon: Float(epsilon), relu: fusedLayers == 1,
                                          name: name)
                }
            case .layernorm(let epsilon): x = builder.layerNorm(x, epsilon: Float(epsilon), name: name)
            case .flatten: x = builder.flatten(x)
            case let .embedding(dimension, initialization):
                let vocabulary = tokenInput[ObjectIdentifier(x)].flatMap { facts.vocabularySize[$0] } ?? 1
                x = builder.embedding(x, vocabulary: vocabulary, dimension: dimension,
                                      initialization: scheme(initialization), name: name)
            case let .residual(inner, nil):
                var compiler = self
                x = builder.residual(x) { compiler.apply(inner, to: $0, mask: mask, prefix: name) }
                watched = compiler.watched
            case let .residual(inner, shortcut?):
                var compiler = self
                x = builder.residual(x, { compiler.apply(inner, to: $0, mask: mask, prefix: name) },
                                     shortcut: { compiler.apply(shortcut, to: $0, mask: mask, prefix: "\(name).shortcut") })
                watched = compiler.watched
            case .positional(let initialization):
                x = builder.positionalEmbedding(x, initialization: scheme(initialization), name: name)
            case let .conv1d(filters, kernel, dilation, bias, initialization):
                x = builder.conv1d(x, filters: filters, kernel: kernel, dilation: dilation, bias: bias, mask: padding(of: x),
                                   initialization: scheme(initialization), name: name)
            case let .attention(heads, initialization):
                x = builder.multiHeadAttention(x, heads: heads, mask: padding(of: x), initialization: scheme(initialization),
                                               name: name)
            case let .transformer(heads, hidden, dropout, initialization):
                x = builder.transformerBlock(x, heads: heads, hidden: hidden ?? 4 * (x.shape.last ?? 1), dropout: Float(dropout),
                                             mask: padding(of: x), initialization: scheme(initialization), name: name)
            case .pool(let mode):
                let engineMode: SequencePoolMode = switch mode {
                case .mean: .mean
                case .max: .max
                case .first: .first
                }
                x = builder.sequencePool(x, mode: engineMode, mask: padding(of: x))
            }
            switch layer.kind {
            case .dense, .conv, .embedding, .batchnorm, .layernorm, .positional, .conv1d:
                watched.append((name, x))
                watchedBefore = watched.count - 1
            case .attention:
                watched.append((name + ".out", x))  // its last dense layer stands for it
                watchedBefore = watched.count - 1
            case .transformer:
                watched.append((name + ".linear2", x))
                watchedBefore = watched.count - 1
            case .relu, .leakyRelu, .gelu, .tanh, .sigmoid:
                if let before = watchedBefore { watched[before].output = x }
                watchedBefore = nil
            default:
                watchedBefore = nil
            }
        }
        return x
    }
}
