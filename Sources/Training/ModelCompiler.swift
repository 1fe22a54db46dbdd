import Engine
import FlowSpec
import Tasks

/// Compiles a resolved flow into an engine plan: inputs, trunk branches in dependency order,
/// then each task's head, output layer and fused masked loss.
///
/// Parameter names, as they appear in `model.safetensors`, say where each tensor sits:
/// `inputs.<input>.embedding.weight`, `trunk.<branch>.<index>.<layer>.weight` (e.g.
/// `trunk.features.3.dense.weight`), `heads.<task path>.<index>.<layer>.weight` for hidden head
/// layers and `heads.<task path>.out.weight` for the output layer (and `.bias`; batchnorm adds
/// `.running_mean` and `.running_var`).
public struct ModelCompiler {
    let flow: ResolvedFlow
    let facts: DataFacts
    let builder: PlanBuilder
    /// The tokens input behind each tensor of token ids, for its vocabulary size.
    private var tokenInput: [ObjectIdentifier: String] = [:]

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
                inputs[input.name] = builder.input([h, w, c])
                values[input.name] = inputs[input.name]
            case .numeric:
                inputs[input.name] = builder.input([facts.numericWidth[input.name] ?? 0])
                values[input.name] = inputs[input.name]
            case .tokens(let maxLength, _):
                let ids = builder.input([maxLength])
                tokenInput[ObjectIdentifier(ids)] = input.name
                inputs[input.name] = ids
                values[input.name] = ids
            case .category(.oneHot, _):
                inputs[input.name] = builder.input([vocabulary])
                values[input.name] = inputs[input.name]
            case .category(.embedding(let width), _):
                let ids = builder.input([1])
                inputs[input.name] = ids
                let table = builder.embedding(ids, vocabulary: vocabulary, dimension: width,
                                              name: "inputs.\(input.name).embedding")
                values[input.name] = builder.flatten(table)
            }
        }
        for branch in flow.branches {
            let sources = branch.branch.sources.compactMap { values[$0.value] }
            var x = sources.count == 1 ? sources[0] : builder.concat(sources)
            x = apply(branch.branch.layers, to: x, prefix: "trunk.\(branch.branch.name)")
            values[branch.branch.name] = x
        }
        var tasks: [CompiledTask] = []
        for task in flow.tasks {
            guard let input = values[task.inputName] else { continue }
            let prefix = "heads.\(task.path)"
            let hidden = apply(task.spec.head, to: input, prefix: prefix)
            let classes = facts.classes[task.path]?.count ?? task.spec.classes?.value.count ?? 1
            let positions = task.spec.type == .tokenClassification ? hidden.shape.first ?? 1 : 1
            let output = TaskOutput(type: task.spec.type, classCount: classes, positions: positions)
            let logits = builder.dense(hidden, units: output.units, name: "\(prefix).out")
            let targets = builder.input(output.targetShape), mask = builder.input(output.maskShape)
            let loss = output.addLoss(to: builder, logits: logits, targets: targets, mask: mask, spec: task.spec)
            tasks.append(CompiledTask(task: task, output: output, logits: logits, targets: targets, mask: mask, loss: loss))
        }
        if flow.flow.training.lossWeighting == .uncertainty {
            builder.uncertaintyWeighting(tasks.map(\.loss), name: "loss_weighting.log_variance")
        }
        let kinds = Dictionary(flow.inputs.map { ($0.input.name, $0.input.kind) }, uniquingKeysWith: { a, _ in a })
        return CompiledModel(plan: builder.build(seed: seed), inputs: inputs, inputKinds: kinds, tasks: tasks)
    }

    /// The layers applied in order; weights before a ReLU-like activation start He-initialised.
    private mutating func apply(_ layers: [Layer], to input: Tensor, prefix: String) -> Tensor {
        var x = input
        for (index, layer) in layers.enumerated() {
            let name = "\(prefix).\(index).\(LayerDescription.name(layer.kind))"
            let forReLU: Bool = switch layers.dropFirst(index + 1).first?.kind {
            case .relu?, .leakyRelu?, .gelu?: true
            default: false
            }
            switch layer.kind {
            case let .dense(units, bias): x = builder.dense(x, units: units, bias: bias, forReLU: forReLU, name: name)
            case let .conv(filters, kernel, stride, padding):
                let enginePadding: ConvPadding = switch padding {
                case .same: .same
                case .zeros(let count): .zeros(count)
                }
                x = builder.conv2d(x, filters: filters, kernel: kernel, stride: stride, padding: enginePadding,
                                   forReLU: forReLU, name: name)
            case let .maxpool(size, stride): x = builder.maxPool(x, size: size, stride: stride)
            case let .avgpool(size, stride): x = builder.avgPool(x, size: size, stride: stride)
            case .globalAvgpool: x = builder.globalAvgPool(x)
            case .relu: x = builder.relu(x)
            case .leakyRelu(let slope): x = builder.leakyReLU(x, slope: Float(slope))
            case .gelu: x = builder.gelu(x)
            case .tanh: x = builder.tanh(x)
            case .sigmoid: x = builder.sigmoid(x)
            case .dropout(let rate): x = builder.dropout(x, rate: Float(rate))
            case let .batchnorm(momentum, epsilon):
                x = builder.batchNorm(x, momentum: Float(momentum), epsilon: Float(epsilon), name: name)
            case .layernorm(let epsilon): x = builder.layerNorm(x, epsilon: Float(epsilon), name: name)
            case .flatten: x = builder.flatten(x)
            case .embedding(let dimension):
                let vocabulary = tokenInput[ObjectIdentifier(x)].flatMap { facts.vocabularySize[$0] } ?? 1
                x = builder.embedding(x, vocabulary: vocabulary, dimension: dimension, name: name)
            case .residual(let inner):
                var compiler = self
                x = builder.residual(x) { compiler.apply(inner, to: $0, prefix: name) }
            }
        }
        return x
    }
}
