/// Writes a flow back as YAML with every default spelled out: what `train` saves as the run's
/// `flow.yaml`, so that a reader sees exactly what was run and later commands load it as is.
/// Data paths are written as given to `write` (the trainer passes absolute ones).
public enum FlowWriter {
    public static func yaml(_ flow: Flow, dataPaths resolve: (String) -> String) -> String {
        var out = "# Written by flowtrain train: the flow as run, every default spelled out.\n"
        out += "name: \(flow.name)\n"
        out += "data:\n"
        let data = flow.data
        for (key, value) in [("train", data.train), ("valid", data.valid), ("test", data.test), ("file", data.file)] {
            if let value { out += "  \(key): \(quote(resolve(value)))\n" }
        }
        if let split = data.split {
            out += "  split: {valid: \(number(split.valid)), test: \(number(split.test)), seed: \(split.seed)}\n"
        }
        out += "  missing: [\(data.missingMarkers.map(quote).joined(separator: ", "))]\n"
        out += "inputs:\n"
        for input in flow.inputs {
            let fields: String = switch input.kind {
            case let .image(h, w, c, resize):
                "type: image, column: \(quote(input.column)), shape: [\(h), \(w), \(c)], resize: \(resize)"
                    + (input.augmentation.map { ", augment: \(augmentationText($0))" } ?? "")
                    + (input.imageNormalization.map { n in
                        ", normalize: {mean: [\(n.mean.map(number).joined(separator: ", "))], "
                            + "std: [\(n.std.map(number).joined(separator: ", "))]}"
                    } ?? "")
                    + (input.imageDirectory.map { ", directory: \(quote(resolve($0)))" } ?? "")
            case let .numeric(columns, normalize, missing):
                "type: numeric, columns: \(columnsText(columns)), normalize: \(normalize.rawValue), missing: \(missing.rawValue)"
                    + (input.numericEncoding.map { ", " + encodingText($0) } ?? "")
            case .tokens(let settings):
                "type: tokens, column: \(quote(input.column)), max_length: \(settings.maxLength), min_count: \(settings.minCount)"
                    + (settings.maxVocabulary.map { ", max_vocabulary: \($0)" } ?? "")
                    + ", tokenize: \(settings.split.rawValue), lowercase: \(settings.lowercase)"
            case let .category(encoding, minCount):
                "type: category, column: \(quote(input.column)), "
                    + (encoding == .oneHot ? "encoding: one_hot" : "embedding: \(embeddingWidth(encoding))")
                    + ", min_count: \(minCount)"
            }
            out += "  \(input.name): {\(fields)}\n"
        }
        if !flow.trunk.isEmpty {
            out += "trunk:\n"
            for branch in flow.trunk {
                out += "  \(branch.name):\n"
                out += "    from: [\(branch.sources.map(\.value).joined(separator: ", "))]\n"
                out += "    layers: \(layersText(branch.layers))\n"
                if let initial = branch.initialWeights {
                    out += "    init: \(quote(resolve(initial.file.value)))\n"
                    if initial.effectiveNames == nil { out += "    prefix: \(quote(initial.prefix))\n" }
                    if initial.layout != .flowtrain { out += "    layout: \(initial.layout.rawValue)\n" }
                    switch initial.names {
                    case nil: break
                    case .inOrder?: out += "    names: in_order\n"
                    case .pairs(let pairs)?:
                        out += "    names:\n"
                        for pair in pairs { out += "      \(quote(pair.layer.value)): \(quote(pair.module.value))\n" }
                    }
                }
                out += "    trainable: \(branch.trainable)\n"
            }
        }
        out += "flow:\n"
        writeNodes(flow.tasks, indent: "  ", into: &out)
        let t = flow.training, o = t.optimizer
        out += "train:\n"
        out += "  epochs: \(t.epochs)\n  batch_size: \(t.batchSize)\n  seed: \(t.seed)\n"
        var optimizer = "name: \(o.name.rawValue), lr: \(number(o.learningRate)), weight_decay: \(number(o.weightDecay))"
        if o.name == .sgd {
            optimizer += ", momentum: \(number(o.momentum)), nesterov: \(o.nesterov)"
        } else {
            optimizer += ", betas: [\(number(o.betas.0)), \(number(o.betas.1))]"
        }
        if let clip = o.clipNorm { optimizer += ", clip_norm: \(number(clip))" }
        out += "  optimizer: {\(optimizer)}\n"
        var schedule = ""
        switch t.schedule.kind {
        case .constant: schedule = "name: constant"
        case let .step(size, gamma): schedule = "name: step, gamma: \(number(gamma))" + (size.map { ", step_size: \($0)" } ?? "")
        case .cosine(let minimum): schedule = "name: cosine, min_factor: \(number(minimum))"
        case .cooldown(let fraction): schedule = "name: cooldown, fraction: \(number(fraction))"
        }
        out += "  schedule: {\(schedule), warmup_epochs: \(t.schedule.warmupEpochs)}\n"
        let weighting: String = switch t.lossWeighting {
        case .fixed, .uncertainty: t.lossWeighting.name
        case .dwa(let temperature): "{name: dwa, temperature: \(number(temperature))}"
        case let .gradnorm(alpha, rate, branch):
            "{name: gradnorm, alpha: \(number(alpha)), lr: \(number(rate))" + (branch.map { ", branch: \($0.value)" } ?? "") + "}"
        }
        out += "  loss_weighting: \(weighting)\n  sampling: \(t.sampling.rawValue)\n  init: \(t.initialization.rawValue)\n"
        out += "  diagnostics: {layers: \(t.diagnostics.layers), worst_samples: \(t.diagnostics.worstSamples)}\n"
        return out
    }

    private static func writeNodes(_ nodes: [TaskNode], indent: String, into out: inout String) {
        for node in nodes {
            out += "\(indent)\(node.name):\n"
            let inner = indent + "  "
            if let when = node.when { out += "\(inner)when: \(quote(when.text(\.value)))\n" }
            switch node.content {
            case .flow(let children):
                out += "\(inner)flow:\n"
                writeNodes(children, indent: inner + "  ", into: &out)
            case .task(let spec):
                out += "\(inner)type: \(spec.type.rawValue)\n"
                if let input = spec.input { out += "\(inner)input: \(input.value)\n" }
                if !spec.head.isEmpty { out += "\(inner)head: \(layersText(spec.head))\n" }
                out += "\(inner)weight: \(number(spec.weight))\n"
                if let classes = spec.classes?.value {
                    out += "\(inner)\(spec.type == .multilabel ? "labels" : "classes"): [\(classes.map(quote).joined(separator: ", "))]\n"
                }
                if spec.type == .boundedRegression { out += "\(inner)scale: \(number(spec.scale))\n" }
                if let loss = spec.loss { out += "\(inner)loss: \(loss.rawValue)\n" }
                if spec.type == .maskedLanguageModel {
                    out += "\(inner)rate: \(number(spec.maskRate))\n"
                    if let tokens = spec.maskedInput { out += "\(inner)tokens: \(tokens.value)\n" }
                }
            }
        }
    }

    private static func layersText(_ layers: [Layer]) -> String {
        "[" + layers.map(layerText).joined(separator: ", ") + "]"
    }

    private static func layerText(_ layer: Layer) -> String {
        switch layer.kind {
        case let .dense(units, bias, initialization):
            "dense: {units: \(units), bias: \(bias)\(initText(initialization))}"
        // `bias: false`, maxpool's `padding` and a residual's `shortcut` are written only when
        // they differ from what flows without them meant, so that the `flow.yaml` of runs trained
        // before they existed still matches on `--resume`.
        case let .conv(filters, kernel, stride, padding, bias, initialization):
            "conv: {filters: \(filters), kernel: \(kernel), stride: \(stride), padding: "
                + (padding == .same ? "same" : padding == .zeros(0) ? "0" : "\(zeros(padding))") + (bias ? "" : ", bias: false")
                + initText(initialization) + "}"
        case let .maxpool(size, stride, padding):
            "maxpool: {size: \(size), stride: \(stride)" + (padding == 0 ? "" : ", padding: \(padding)") + "}"
        case let .avgpool(size, stride): "avgpool: {size: \(size), stride: \(stride)}"
        case .leakyRelu(let slope): "leaky_relu: {slope: \(number(slope))}"
        case .dropout(let rate): "dropout: {rate: \(number(rate))}"
        case let .batchnorm(momentum, epsilon): "batchnorm: {momentum: \(number(momentum)), epsilon: \(number(epsilon))}"
        case .layernorm(let epsilon): "layernorm: {epsilon: \(number(epsilon))}"
        case let .embedding(dimension, initialization): "embedding: {dimension: \(dimension)\(initText(initialization))}"
        case let .residual(inner, shortcut):
            "residual: {layers: \(layersText(inner))" + (shortcut.map { ", shortcut: \(layersText($0))" } ?? "") + "}"
        case .positional(let initialization): "positional: {\(initText(initialization).dropFirst(2))}"
        case let .conv1d(filters, kernel, dilation, bias, initialization):
            "conv1d: {filters: \(filters), kernel: \(kernel), dilation: \(dilation), bias: \(bias)\(initText(initialization))}"
        case let .attention(heads, initialization): "attention: {heads: \(heads)\(initText(initialization))}"
        case let .transformer(heads, hidden, dropout, initialization):
            "transformer: {heads: \(heads)" + (hidden.map { ", hidden: \($0)" } ?? "")
                + ", dropout: \(number(dropout))\(initText(initialization))}"
        case .pool(let mode): "pool: \(mode.rawValue)"
        default: LayerDescription.name(layer.kind)
        }
    }

    /// A numeric input's `encoding:` with every setting.
    private static func encodingText(_ encoding: NumericEncoding) -> String {
        switch encoding {
        case let .piecewiseLinear(bins, dimension):
            "encoding: piecewise_linear, bins: \(bins)" + (dimension.map { ", dimension: \($0)" } ?? "")
        case let .periodic(frequencies, dimension, sigma):
            "encoding: periodic, frequencies: \(frequencies), dimension: \(dimension), sigma: \(number(sigma))"
        }
    }

    /// A layer's own `init:`, as the last key of its mapping.
    private static func initText(_ initialization: WeightInit?) -> String {
        initialization.map { ", init: \($0.rawValue)" } ?? ""
    }

    private static func augmentationText(_ a: Augmentation) -> String {
        func names(_ list: [Located<String>]) -> String { "[" + list.map { quote($0.value) }.joined(separator: ", ") + "]" }
        func range(_ r: ClosedRange<Double>) -> String { "[\(number(r.lowerBound)), \(number(r.upperBound))]" }
        var fields = ["flip_horizontal: \(a.flipHorizontal)", "flip_vertical: \(a.flipVertical)", "rot90: \(a.rot90)"]
        if let crop = a.crop { fields.append("crop: {scale: \(range(crop))}") }
        if let blur = a.blur { fields.append("blur: {sigma: \(range(blur.sigma)), p: \(number(blur.probability))}") }
        fields += ["brightness: \(number(a.brightness))", "contrast: \(number(a.contrast))",
                   "boxes: [" + a.boxes.map(names).joined(separator: ", ") + "]",
                   "points: [" + a.points.map(names).joined(separator: ", ") + "]",
                   "invariant: \(names(a.invariant))"]
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func zeros(_ padding: Padding) -> Int {
        if case .zeros(let count) = padding { return count }
        return 0
    }

    private static func embeddingWidth(_ encoding: CategoryEncoding) -> Int {
        if case .embedding(let width) = encoding { return width }
        return 0
    }

    private static func columnsText(_ columns: ColumnSelection) -> String {
        switch columns {
        case .names(let names): "[" + names.map(quote).joined(separator: ", ") + "]"
        case .pattern(let glob): quote(glob)
        }
    }

    /// A YAML double-quoted string.
    /// `text` as a double-quoted YAML scalar, safe for any name.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    private static func number(_ value: Double) -> String { FlowNumber.text(value) }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
