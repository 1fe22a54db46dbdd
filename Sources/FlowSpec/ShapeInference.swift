/// Infers each layer's output shape and parameter count, reporting the layer that breaks
/// (a kernel larger than its input, a dense layer on an image that was never flattened).
struct ShapeInference {
    let sink: DiagnosticSink

    /// The layers applied in order to `shape`; nil after the first layer that does not fit, since
    /// every later shape would be a guess.
    func infer(_ layers: [Layer], from shape: Shape, context: String) -> [ResolvedLayer]? {
        var shape = shape
        var resolved: [ResolvedLayer] = []
        for layer in layers {
            guard let next = infer(layer, from: shape, context: context) else { return nil }
            resolved.append(next)
            shape = next.output
        }
        return resolved
    }

    func infer(_ layer: Layer, from input: Shape, context: String) -> ResolvedLayer? {
        guard let result = inferUnchecked(layer, from: input, context: context) else { return nil }
        let sizes = [result.parameters, result.output.flattened ?? SymbolicCount(0)]
        if sizes.contains(where: \.isTooLarge) {
            sink.error("\(context): \(LayerDescription.name(layer.kind)) would hold more than "
                       + "\(SymbolicCount.grouped(SymbolicCount.limit)) values", at: layer.location)
            return nil
        }
        return result
    }

    private func inferUnchecked(_ layer: Layer, from input: Shape, context: String) -> ResolvedLayer? {
        func fail(_ message: String, hint: String? = nil) -> ResolvedLayer? {
            sink.error("\(context): \(message)", at: layer.location, hint: hint)
            return nil
        }
        func done(_ output: Shape, _ parameters: SymbolicCount = SymbolicCount(0),
                  inner: [ResolvedLayer] = [], shortcut: [ResolvedLayer] = []) -> ResolvedLayer {
            ResolvedLayer(layer: layer, output: output, parameters: parameters, inner: inner, shortcut: shortcut)
        }
        let name = LayerDescription.name(layer.kind)
        /// Windows of `size` with `padding` on each side (maxpool's is −∞; avgpool has none).
        func pool(size: Int, stride: Int, padding: Int) -> ResolvedLayer? {
            guard case let .image(h, w, c) = input else {
                return fail("\(name) needs an image, but its input is \(input.phrase)")
            }
            if size > min(h, w) + 2 * padding {
                return fail("pool size \(size) is larger than its input \(h)×\(w)" + (padding > 0 ? " padded by \(padding)" : ""))
            }
            return done(.image(height: (h + 2 * padding - size) / stride + 1, width: (w + 2 * padding - size) / stride + 1,
                               channels: c))
        }
        /// What the sequence layers say of any other input.
        func needsSequence() -> ResolvedLayer? {
            fail("\(name) needs a sequence [length, features], but its input is \(input.phrase)",
                 hint: "\(name) reads the positions of a tokens input after its embedding, before a pool or flatten")
        }
        /// Attention's heads split the features evenly; nil after reporting that they do not.
        func checkHeads(_ heads: Int, _ features: SymbolicCount) -> Bool {
            guard let d = features.known, d % heads != 0 else { return true }
            let divisors = (1...d).filter { d % $0 == 0 }.sorted { abs($0 - heads) < abs($1 - heads) }.prefix(3).sorted()
                .map(String.init).joined(separator: ", ")
            _ = fail("\(name): \(heads) heads do not split \(d) features evenly",
                     hint: "use a number of heads that divides \(d), such as \(divisors)")
            return false
        }
        if case let .tokenIDs(length, tokenInput) = input {
            if case .embedding(let dimension, _) = layer.kind {
                return done(.sequence(length: length, features: SymbolicCount(dimension)),
                            SymbolicCount(symbol: "vocabulary(\(tokenInput))") * SymbolicCount(dimension))
            }
            return fail("\(name) cannot read token ids", hint: "start with an embedding layer, e.g. 'embedding: 64'")
        }
        switch layer.kind {
        case let .dense(units, bias, _):
            guard let features = input.features else { return nil }
            let weights = features * SymbolicCount(units) + SymbolicCount(bias ? units : 0)
            switch input {
            case .vector: return done(.vector(SymbolicCount(units)), weights)
            case .sequence(let length, _): return done(.sequence(length: length, features: SymbolicCount(units)), weights)
            default:
                return fail("dense needs a vector, but its input is \(input.phrase)",
                            hint: "add flatten or global_avgpool before it")
            }
        case let .conv(filters, kernel, stride, padding, bias, _):
            guard case let .image(h, w, c) = input else {
                return fail("conv needs an image [height, width, channels], but its input is \(input.phrase)")
            }
            let pad: Int
            switch padding {
            case .same: pad = 0
            case .zeros(let p): pad = p
            }
            if case .zeros = padding, kernel > min(h, w) + 2 * pad {
                return fail("kernel \(kernel) is larger than its input \(h)×\(w)"
                            + (pad > 0 ? " padded by \(pad)" : ""),
                            hint: "use a smaller kernel, padding, or fewer downsampling layers before it")
            }
            let out = { (size: Int) in padding == .same ? (size + stride - 1) / stride : (size + 2 * pad - kernel) / stride + 1 }
            return done(.image(height: out(h), width: out(w), channels: filters),
                        SymbolicCount(kernel * kernel * c * filters + (bias ? filters : 0)))
        case let .maxpool(size, stride, padding):
            return pool(size: size, stride: stride, padding: padding)
        case let .avgpool(size, stride):
            return pool(size: size, stride: stride, padding: 0)
        case .globalAvgpool:
            switch input {
            case .image(_, _, let c): return done(.vector(SymbolicCount(c)))
            case .sequence(_, let features): return done(.vector(features))
            default: return fail("global_avgpool needs an image or a sequence, but its input is \(input.phrase)")
            }
        case .relu, .leakyRelu, .gelu, .tanh, .sigmoid, .dropout:
            return done(input)
        case .batchnorm, .layernorm:
            guard let features = input.features else { return nil }
            return done(input, SymbolicCount(2) * features)
        case .flatten:
            guard let flat = input.flattened else { return nil }
            return done(.vector(flat))
        case .embedding:
            return fail("embedding reads token ids, but its input is \(input.phrase)")
        case .positional:
            guard case let .sequence(length, features) = input else { return needsSequence() }
            return done(input, SymbolicCount(length) * features)
        case let .conv1d(filters, kernel, _, bias, _):
            guard case let .sequence(length, features) = input else { return needsSequence() }
            return done(.sequence(length: length, features: SymbolicCount(filters)),
                        SymbolicCount(kernel * filters) * features + SymbolicCount(bias ? filters : 0))
        case .attention(let heads, _):
            guard case .sequence(_, let d) = input else { return needsSequence() }
            guard checkHeads(heads, d) else { return nil }
            // Query, key and value projections (one 3d × d weight), the output projection.
            return done(input, SymbolicCount(4) * d * d + SymbolicCount(4) * d)
        case let .transformer(heads, hidden, _, _):
            guard case .sequence(_, let d) = input else { return needsSequence() }
            guard checkHeads(heads, d) else { return nil }
            let h = hidden.map { SymbolicCount($0) } ?? SymbolicCount(4) * d
            // Attention, two layernorms, then d → h → d.
            return done(input, SymbolicCount(4) * d * d + SymbolicCount(4) * d + SymbolicCount(4) * d
                        + SymbolicCount(2) * d * h + h + d)
        case .pool:
            guard case .sequence(_, let features) = input else { return needsSequence() }
            return done(.vector(features))
        case let .residual(layers, nil):
            guard let inner = infer(layers, from: input, context: context) else { return nil }
            let output = inner.last?.output ?? input
            guard output == input else {
                return fail("a residual block must keep its input's shape: \(input) became \(output)",
                            hint: "to change the shape, give it a shortcut: residual: {layers: [...], shortcut: [...]}")
            }
            return done(output, inner.map(\.parameters).reduce(SymbolicCount(0), +), inner: inner)
        case let .residual(layers, shortcutLayers?):
            // Both paths are inferred, so that a mistake in each is reported.
            let inner = infer(layers, from: input, context: context)
            let shortcut = infer(shortcutLayers, from: input, context: "\(context): residual shortcut")
            guard let inner, let shortcut else { return nil }
            let output = inner.last?.output ?? input, projected = shortcut.last?.output ?? input
            guard output == projected else {
                return fail("a residual block and its shortcut must give the same shape: the layers give \(output), "
                            + "the shortcut \(projected)")
            }
            let parameters = (inner + shortcut).map(\.parameters).reduce(SymbolicCount(0), +)
            return done(output, parameters, inner: inner, shortcut: shortcut)
        }
    }

    /// The output layer a task type adds after its head: one logit per binary or regression
    /// target, one per class or label.
    /// `vocabularyOf`: the tokens input a masked language model predicts the ids of.
    func outputLayer(for task: TaskPath, spec: TaskSpec, after input: Shape, at location: SourceLocation,
                     inputName: String, vocabularyOf: String? = nil) -> ResolvedLayer? {
        let context = "task '\(task)'"
        let width: SymbolicCount = switch spec.type {
        case .binary, .boundedRegression, .regression: SymbolicCount(1)
        case .maskedLanguageModel: SymbolicCount(symbol: "vocabulary(\(vocabularyOf ?? inputName))")
        case .classification, .multilabel, .tokenClassification:
            spec.classes.map { SymbolicCount($0.value.count) }
                ?? SymbolicCount(symbol: "\(spec.type == .multilabel ? "labels" : "classes")(\(task))")
        }
        let layer = Layer(kind: .dense(units: width.known ?? 0, bias: true, initialization: nil), location: location)
        guard let result = outputLayerUnchecked(layer, width: width, spec: spec, input: input, context: context,
                                                location: location, inputName: inputName) else { return nil }
        if result.parameters.isTooLarge {
            sink.error("\(context): the output layer would hold more than \(SymbolicCount.grouped(SymbolicCount.limit)) values",
                       at: location)
            return nil
        }
        return result
    }

    private func outputLayerUnchecked(_ layer: Layer, width: SymbolicCount, spec: TaskSpec, input: Shape,
                                      context: String, location: SourceLocation, inputName: String) -> ResolvedLayer? {
        switch (spec.type, input) {
        case (.tokenClassification, .sequence(let length, let features)),
             (.maskedLanguageModel, .sequence(let length, let features)):
            return ResolvedLayer(layer: layer, output: .sequence(length: length, features: width),
                                 parameters: (features + SymbolicCount(1)) * width, inner: [])
        case (.tokenClassification, _), (.maskedLanguageModel, _):
            sink.error("\(context): \(spec.type.rawValue) needs a sequence (tokens through an embedding), "
                       + "but '\(inputName)' gives \(input.phrase)", at: location)
            return nil
        case (_, .vector(let features)):
            return ResolvedLayer(layer: layer, output: .vector(width),
                                 parameters: (features + SymbolicCount(1)) * width, inner: [])
        case (_, .tokenIDs):
            sink.error("\(context): the output layer needs a vector, but '\(inputName)' gives \(input.phrase)",
                       at: location, hint: "embed them first: 'embedding: N', then global_avgpool or flatten")
            return nil
        default:
            sink.error("\(context): the output layer needs a vector, but '\(inputName)' gives \(input.phrase)"
                       + (spec.head.isEmpty ? "" : " after the head"), at: location,
                       hint: "add flatten or global_avgpool to the head or the branch")
            return nil
        }
    }
}
