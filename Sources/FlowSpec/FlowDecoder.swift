/// Decodes a flow file's YAML into a `Flow`: every key known, every value of the right type and
/// range, every default filled in. Names are checked later, by `FlowResolver`.
struct FlowDecoder {
    let file: String
    let sink: DiagnosticSink

    func decode(_ root: YAMLNode) -> Flow? {
        guard var top = MappingReader(root, context: "flow file", sink: sink,
                                      expecting: "a mapping with keys name, data, inputs, trunk, flow, train")
        else { return nil }
        let name = top.required("name")?.flowName("name", sink)
        let data = top.required("data", what: "the CSV files to train on").flatMap(decodeData)
            ?? DataSource(missingMarkers: DataSource.defaultMissingMarkers)
        let inputs = top.required("inputs").map(decodeInputs) ?? []
        if let node = top.value("inputs"), case .mapping(let pairs) = node.content {
            sink.declaredInputs = Set(pairs.compactMap(\.key.scalar)).count
        }
        let trunk = top.value("trunk").map(decodeTrunk) ?? []
        var tasks: [TaskNode] = []
        if let flowNode = top.required("flow", what: "the tree of tasks") {
            tasks = decodeTaskNodes(flowNode, parent: nil, markers: data.missingMarkers)
        }
        let training = decodeTraining(top.value("train"))
        let search = top.value("search").flatMap { decodeSearch($0, key: top.keyLocation("search") ?? $0.location) }
        top.finish(ignoringPrefix: "x-")
        // A missing or bad name was reported; resolution goes on to find the other mistakes.
        return Flow(name: name ?? "", file: file, data: data, inputs: inputs, trunk: trunk, tasks: tasks,
                    training: training, search: search)
    }

    // MARK: data

    private func decodeData(_ node: YAMLNode) -> DataSource? {
        guard var m = MappingReader(node, context: "data", sink: sink) else { return nil }
        var data = DataSource(missingMarkers: DataSource.defaultMissingMarkers)
        for key in ["train", "valid", "test", "file"] {
            guard let value = m.value(key) else { continue }
            data.pathLocations[key] = value.location
        }
        data.train = m.value("train")?.string("data.train", sink)
        data.valid = m.value("valid")?.string("data.valid", sink)
        data.test = m.value("test")?.string("data.test", sink)
        data.file = m.value("file")?.string("data.file", sink)
        if let markers = m.value("missing") { data.missingMarkers = markers.strings("data.missing", sink) ?? [] }
        if let splitNode = m.value("split") { data.split = decodeSplit(splitNode) }
        m.finish()
        if data.file != nil, data.train != nil {
            sink.error("data: give either 'file' (one file, split by 'split') or 'train', not both",
                       at: m.keyLocation("file"))
        } else if !m.has("file"), !m.has("train"), !m.hasNearMiss(of: "train") {
            sink.error("data: missing 'train' (or 'file' with a 'split')", at: node.location)
        }
        if data.file != nil, !m.has("split") {
            sink.error("data: 'file' needs a 'split' such as {valid: 0.1, test: 0.1, seed: 1}",
                       at: m.keyLocation("file"))
        }
        // With `train`, a split carves valid and test rows out of the training file, for
        // whichever of the two has no file of its own.
        if let split = data.split, data.train != nil {
            if data.valid != nil, split.valid > 0 {
                sink.error("data: 'split.valid' and a 'valid' file both give validation rows; keep one",
                           at: m.keyLocation("split"))
            }
            if data.test != nil, split.test > 0 {
                sink.error("data: 'split.test' and a 'test' file both give test rows; keep one",
                           at: m.keyLocation("split"))
            }
        }
        return data
    }

    private func decodeSplit(_ node: YAMLNode) -> Split? {
        guard var m = MappingReader(node, context: "data.split", sink: sink) else { return nil }
        let valid = m.value("valid")?.double("data.split.valid", in: 0...1, exclusiveUpper: true, sink) ?? 0
        let test = m.value("test")?.double("data.split.test", in: 0...1, exclusiveUpper: true, sink) ?? 0
        let seed = m.value("seed")?.int("data.split.seed", in: 0...Int(UInt32.max), sink) ?? 1
        m.finish()
        if valid + test >= 1 {
            sink.error("data.split: valid + test is \(YAMLNode.format(valid + test)); it must leave rows to train on",
                       at: node.location)
        }
        return Split(valid: valid, test: test, seed: seed)
    }

    // MARK: inputs

    private func decodeInputs(_ node: YAMLNode) -> [Input] {
        guard let m = MappingReader(node, context: "inputs", sink: sink, entryNoun: "input") else { return [] }
        if m.pairs.isEmpty { sink.error("inputs: the flow declares no input", at: node.location) }
        return m.keys.compactMap { raw, key, value in
            guard let name = key.identifier("input name", sink) else {
                sink.brokenSources.insert(raw)
                return nil
            }
            let input = decodeInput(name, key.location, value)
            if input == nil { sink.brokenSources.insert(name) }
            return input
        }
    }

    private func decodeInput(_ name: String, _ at: SourceLocation, _ node: YAMLNode) -> Input? {
        let context = "input '\(name)'"
        guard var m = MappingReader(node, context: context, sink: sink, owner: at) else { return nil }
        let typeNames = ["image", "numeric", "tokens", "category"]
        guard let type = m.required("type", what: typeNames.joined(separator: ", "))?
            .choice("\(context): type", typeNames, sink)
        else {
            m.skip("column", "columns", "shape", "resize", "augment", "normalize", "directory", "missing", "max_length", "min_count",
                   "max_vocabulary", "tokenize", "lowercase", "embedding", "encoding", "bins", "dimension", "frequencies",
                   "sigma")
            m.finish()
            return nil
        }
        // A numeric input reads `columns`; every other kind reads one `column`, named after the input by default.
        let column = type == "numeric" ? "" : m.value("column")?.string("\(context): column", sink) ?? name
        var kind: Input.Kind?
        var augmentation: Augmentation?
        var numericEncoding: NumericEncoding?
        var imageNormalization: ImageNormalization?
        var imageDirectory: String?
        switch type {
        case "image":
            let resize = m.value("resize")?.bool("\(context): resize", sink) ?? false
            imageDirectory = m.value("directory")?.string("\(context): directory", sink)
            if let shape = m.required("shape", what: "[height, width, channels]"),
               let dims = shape.list("\(context): shape", sink) {
                if dims.count != 3 {
                    sink.error("\(context): shape is [height, width, channels], found \(dims.count) numbers",
                               at: shape.location)
                } else {
                    let h = dims[0].int("\(context): height", in: 1...16384, sink)
                    let w = dims[1].int("\(context): width", in: 1...16384, sink)
                    let c = dims[2].int("\(context): channels", in: 1...4, sink)
                    if let h, let w, let c {
                        if c == 2 {
                            sink.error("\(context): channels must be 1 (gray), 3 (RGB) or 4 (RGBA)", at: dims[2].location)
                        } else {
                            kind = .image(height: h, width: w, channels: c, resize: resize)
                        }
                    }
                }
            }
            if let node = m.value("augment") {
                var size: (height: Int, width: Int)?
                if case let .image(h, w, _, _) = kind { size = (h, w) }
                augmentation = decodeAugmentation(node, key: m.keyLocation("augment") ?? node.location,
                                                  input: name, size: size)
            }
            if let node = m.value("normalize") {
                var channels: Int?
                if case let .image(_, _, c, _) = kind { channels = c }
                imageNormalization = decodeImageNormalization(node, channels: channels, context: context)
            }
        case "numeric":
            let columns: ColumnSelection?
            if let node = m.required("columns", what: "a list of column names, or a glob like \"f*\"") {
                if case .scalar(let text, _) = node.content, text.contains(where: { "*?[".contains($0) }) {
                    columns = .pattern(text)
                } else if let names = node.strings("\(context): columns", sink) {
                    if names.isEmpty { sink.error("\(context): columns is empty", at: node.location) }
                    if case .sequence(let items) = node.content {
                        for (index, item) in items.enumerated() {
                            if names[..<index].contains(names[index]) {
                                sink.error("\(context): column '\(names[index])' is listed twice", at: item.location)
                            }
                            if names[index].contains(where: { "*?[".contains($0) }) {
                                sink.error("\(context): '\(names[index])' is a pattern; patterns work as the whole "
                                           + "'columns' value, not inside a list", at: item.location)
                            }
                        }
                    }
                    columns = names.isEmpty ? nil : .names(names)
                } else { columns = nil }
            } else { columns = nil }
            let normalize = m.value("normalize")
                .flatMap { $0.choice("\(context): normalize", Normalization.allCases.map(\.rawValue), sink) }
                .flatMap(Normalization.init(rawValue:)) ?? .standard
            let missing = m.value("missing")
                .flatMap { $0.choice("\(context): missing", MissingValues.allCases.map(\.rawValue), sink) }
                .flatMap(MissingValues.init(rawValue:)) ?? .mean
            if let columns { kind = .numeric(columns: columns, normalize: normalize, missing: missing) }
            numericEncoding = decodeNumericEncoding(&m, context: context)
        case "tokens":
            let maxLength = m.required("max_length")?.int("\(context): max_length", in: 1...65536, sink)
            let minCount = m.value("min_count")?.int("\(context): min_count", in: 1...Int.max, sink) ?? 1
            // The reserved ids and at least one token; ids are floats in the engine, exact to 2²⁴.
            let maxVocabulary = m.value("max_vocabulary")?
                .int("\(context): max_vocabulary", in: (TokenSettings.reserved.count + 1)...(1 << 24), sink)
            let split = m.value("tokenize")?.choice("\(context): tokenize", TokenSplit.allCases.map(\.rawValue), sink)
                .flatMap(TokenSplit.init(rawValue:)) ?? .whitespace
            let lowercase = m.value("lowercase")?.bool("\(context): lowercase", sink) ?? false
            if let maxLength {
                kind = .tokens(TokenSettings(maxLength: maxLength, minCount: minCount, maxVocabulary: maxVocabulary,
                                             split: split, lowercase: lowercase))
            }
        default:  // category
            let minCount = m.value("min_count")?.int("\(context): min_count", in: 1...Int.max, sink) ?? 1
            let embedding = m.value("embedding")?.int("\(context): embedding", in: 1...65536, sink)
            let encoding = m.value("encoding")?.choice("\(context): encoding", ["one_hot", "embedding"], sink)
            if embedding != nil, encoding == "one_hot" {
                sink.error("\(context): give 'embedding: N' or 'encoding: one_hot', not both",
                           at: m.keyLocation("encoding"))
            } else if encoding == "embedding", !m.has("embedding") {
                sink.error("\(context): 'encoding: embedding' needs 'embedding: N', the vector width",
                           at: m.keyLocation("encoding"))
            } else {
                kind = .category(encoding: embedding.map { .embedding($0) } ?? .oneHot, minCount: minCount)
            }
        }
        let keysByType = ["image": ["shape", "resize", "augment", "normalize", "directory"],
                          "numeric": ["columns", "normalize", "missing", "encoding", "bins", "dimension", "frequencies", "sigma"],
                          "tokens": ["max_length", "max_vocabulary", "tokenize", "lowercase"],
                          "category": ["embedding", "encoding"]]
        var elsewhere: [String: String] = [:]
        for (other, keys) in keysByType where other != type {
            for key in keys where !(keysByType[type] ?? []).contains(key) {
                elsewhere[key] = "applies to \(other) inputs, and this input is \(type)"
            }
        }
        if type != "tokens", type != "category" { elsewhere["min_count"] = "applies to tokens and category inputs" }
        if type == "numeric" { elsewhere["column"] = "is for one-column inputs; a numeric input lists 'columns'" }
        m.finish(elsewhere: elsewhere)
        return kind.map {
            Input(name: name, location: at, column: column, kind: $0, augmentation: augmentation, numericEncoding: numericEncoding,
                  imageNormalization: imageNormalization, imageDirectory: imageDirectory)
        }
    }

    /// An image input's `normalize:`: `imagenet`, or `{mean: [...], std: [...]}` with one
    /// number per channel (values scaled to [0, 1]; std > 0).
    private func decodeImageNormalization(_ node: YAMLNode, channels: Int?, context: String) -> ImageNormalization? {
        let what = "\(context): normalize"
        if let name = node.scalar {
            guard name == "imagenet" else {
                sink.error("\(what): expected 'imagenet' or {mean: [...], std: [...]}, found '\(name)'", at: node.location)
                return nil
            }
            if let channels, channels != 3 {
                sink.error("\(what): imagenet's statistics are for 3 channels (RGB), and the image has \(channels)",
                           at: node.location)
                return nil
            }
            return .imagenet
        }
        guard var n = MappingReader(node, context: what, sink: sink) else { return nil }
        func numbers(_ key: String, positive: Bool) -> [Double]? {
            guard let list = n.required(key, what: "one number per channel")?.list("\(what).\(key)", sink) else { return nil }
            let values = list.compactMap { $0.double("\(what).\(key)", in: 0...Double.greatestFiniteMagnitude,
                                                      exclusiveLower: positive, sink) }
            guard values.count == list.count else { return nil }
            if let channels, values.count != channels, let node = n.value(key) {
                sink.error("\(what).\(key): \(values.count) numbers for an image of \(channels) channels", at: node.location)
                return nil
            }
            return values
        }
        let mean = numbers("mean", positive: false), std = numbers("std", positive: true)
        n.finish()
        guard let mean, let std else { return nil }
        return ImageNormalization(mean: mean, std: std)
    }

    /// A numeric input's `encoding:` and the settings beside it (`bins`, `dimension`,
    /// `frequencies`, `sigma`); a setting of the other encoding, or of none, is an error.
    private func decodeNumericEncoding(_ m: inout MappingReader, context: String) -> NumericEncoding? {
        let names = ["none", "piecewise_linear", "periodic"]
        let node = m.value("encoding")
        let chosen = node.flatMap { $0.choice("\(context): encoding", names, sink) }
        if node != nil, chosen == nil {  // reported; its settings are not judged against a guess
            m.skip("bins", "dimension", "frequencies", "sigma")
            return nil
        }
        let name = chosen ?? "none"
        let settings = ["piecewise_linear": ["bins", "dimension"], "periodic": ["frequencies", "dimension", "sigma"]]
        for key in ["bins", "frequencies", "sigma", "dimension"] where m.has(key) && !(settings[name] ?? []).contains(key) {
            let owners = settings.keys.sorted().filter { settings[$0]!.contains(key) }.joined(separator: " or ")
            sink.error("\(context): '\(key)' is a setting of encoding: \(owners), and this input's encoding is \(name)",
                       at: m.keyLocation(key))
            m.skip(key)
        }
        let dimension = m.value("dimension")?.int("\(context): dimension", in: 1...65536, sink)
        switch name {
        case "piecewise_linear":
            let bins = m.value("bins")?.int("\(context): bins", in: 1...65536, sink) ?? NumericEncoding.defaultBins
            return .piecewiseLinear(bins: bins, dimension: dimension)
        case "periodic":
            let frequencies = m.value("frequencies")?.int("\(context): frequencies", in: 1...65536, sink)
                ?? NumericEncoding.defaultFrequencies
            let sigma = m.value("sigma")?.double("\(context): sigma", in: 0...1000, exclusiveLower: true, sink)
                ?? NumericEncoding.defaultSigma
            return .periodic(frequencies: frequencies, dimension: dimension ?? NumericEncoding.defaultPeriodicDimension,
                             sigma: sigma)
        default:
            return nil
        }
    }

    // MARK: trunk

    private func decodeTrunk(_ node: YAMLNode) -> [Branch] {
        guard let m = MappingReader(node, context: "trunk", sink: sink, entryNoun: "branch") else {
            sink.trunkIsBroken = true
            return []
        }
        return m.keys.compactMap { raw, key, value in
            guard let name = key.identifier("branch name", sink) else {
                // Kept, broken, so that tasks still default to the last branch declared.
                sink.brokenSources.insert(raw)
                return Branch(name: raw, location: key.location, sources: [], layers: [])
            }
            let context = "branch '\(name)'"
            let problemsBefore = sink.count
            // A broken branch is kept, so that tasks still default to the last branch declared;
            // nothing is inferred from it.
            defer { if sink.count > problemsBefore { sink.brokenSources.insert(name) } }
            guard var b = MappingReader(value, context: context, sink: sink, owner: key.location) else {
                return Branch(name: name, location: key.location, sources: [], layers: [])
            }
            var sources: [Located<String>] = []
            if let from = b.required("from", what: "an input or branch, or a list of them") {
                let items: [YAMLNode] = if case .sequence(let list) = from.content { list } else { [from] }
                if items.isEmpty { sink.error("\(context): 'from' is an empty list", at: from.location) }
                sources = items.compactMap { item in
                    // A source whose own name was invalid has been reported where it is declared.
                    if let raw = item.scalar, sink.brokenSources.contains(raw) { return nil }
                    return item.identifier("\(context): from", sink).map { Located(value: $0, location: item.location) }
                }
                for (index, source) in sources.enumerated() where sources[..<index].contains(where: { $0.value == source.value }) {
                    sink.error("\(context): 'from' names '\(source.value)' twice", at: source.location)
                }
            }
            let layers = b.value("layers").map { decodeLayers($0, context: context) } ?? []
            var branch = Branch(name: name, location: key.location, sources: sources, layers: layers)
            let prefixNode = b.value("prefix")
            let prefix = prefixNode.flatMap { node in node.string("\(context): prefix", sink).map { (node, $0) } }
            let layoutNode = b.value("layout"), namesNode = b.value("names")
            if let file = b.value("init") {
                if let path = file.string("\(context): init", sink) {
                    var initial = InitialWeights(file: Located(value: path, location: file.location),
                                                 prefix: prefix?.1 ?? "trunk.\(name).")
                    if let layoutNode {
                        initial.layout = layoutNode.choice("\(context): layout", WeightLayout.allCases.map(\.rawValue), sink)
                            .flatMap(WeightLayout.init(rawValue:)) ?? .flowtrain
                    }
                    if let namesNode { initial.names = decodeTensorNames(namesNode, context: context) }
                    if let prefix, initial.effectiveNames != nil {
                        sink.error("\(context): 'prefix' names tensors by the branch's own names, and "
                                   + (initial.names == nil ? "layout: torch maps layers in order" : "'names' maps them"),
                                   at: prefix.0.location, hint: "keep one of the two")
                    }
                    branch.initialWeights = initial
                }
            } else {
                for (key, node) in [("prefix", prefixNode), ("layout", layoutNode), ("names", namesNode)] {
                    guard let node else { continue }
                    sink.error("\(context): '\(key)' says how to read the file of 'init', and there is none",
                               at: node.location, hint: "add 'init: path/to/model.safetensors'")
                }
            }
            if let trainable = b.value("trainable") { branch.trainable = trainable.bool("\(context): trainable", sink) ?? true }
            b.finish()
            return branch
        }
    }

    /// `names: in_order`, or a mapping from the branch's layer names to the file's modules
    /// (`{0.conv: conv1, 1.batchnorm: bn1}`).
    func decodeTensorNames(_ node: YAMLNode, context: String) -> TensorNames? {
        if let scalar = node.scalar {
            guard scalar == "in_order" else {
                sink.error("\(context): names: expected 'in_order' or a mapping from the branch's layers to the file's "
                           + "modules, found '\(scalar)'", at: node.location, hint: "e.g. {0.conv: conv1, 1.batchnorm: bn1}")
                return nil
            }
            return .inOrder(node.location)
        }
        guard case .mapping(let entries) = node.content else {
            sink.error("\(context): names: expected 'in_order' or a mapping, found \(node.kindDescription)", at: node.location)
            return nil
        }
        var pairs: [TensorNamePair] = []
        for entry in entries {
            guard let layer = entry.key.scalar, let module = entry.value.string("\(context): names: \(layer)", sink) else {
                if entry.key.scalar == nil { sink.error("\(context): names: a key must be a layer's name", at: entry.key.location) }
                continue
            }
            if pairs.contains(where: { $0.layer.value == layer }) {
                sink.error("\(context): names: layer '\(layer)' is named twice", at: entry.key.location)
            }
            pairs.append(TensorNamePair(layer: Located(value: layer, location: entry.key.location),
                                        module: Located(value: module, location: entry.value.location)))
        }
        return .pairs(pairs)
    }

    /// `[conv: {filters: 16, kernel: 5}, relu, dense: 256]`: each item a bare layer name or a
    /// one-key mapping from the layer name to its argument (a number or a mapping).
    func decodeLayers(_ node: YAMLNode, context: String) -> [Layer] {
        guard let items = node.list("\(context): layers", sink) else { return [] }
        return items.compactMap { decodeLayer($0, context: context) }
    }

    private func decodeLayer(_ node: YAMLNode, context: String) -> Layer? {
        let name: String, argument: YAMLNode?, nameLocation: SourceLocation
        switch node.content {
        case .scalar(let text, _) where !node.isNull:
            (name, argument, nameLocation) = (text, nil, node.location)
        case .mapping(let pairs) where pairs.count == 1:
            guard let text = pairs[0].key.scalar else { return nil }
            (name, argument, nameLocation) = (text, pairs[0].value, pairs[0].key.location)
        default:
            sink.error("\(context): a layer is a name such as relu, or a mapping with one key such as "
                       + "'dense: 128'; found \(node.kindDescription)", at: node.location)
            return nil
        }
        guard let spec = LayerSyntax.all[name] else {
            sink.error("\(context): unknown layer '\(name)'", at: nameLocation,
                       hint: Suggestion.hint(for: name, among: LayerSyntax.all.keys.sorted()))
            return nil
        }
        let layerContext = "\(context): \(name)"
        guard let kind = spec.decode(LayerArguments(name: name, node: argument, at: nameLocation,
                                                    context: layerContext, decoder: self))
        else { return nil }
        return Layer(kind: kind, location: nameLocation)
    }

    // MARK: tasks

    /// The tasks of the root flow (`parent` nil) or of the nested flow at path `parent`.
    /// `markers` are the data's missing-label markers, which no class may be named.
    private func decodeTaskNodes(_ node: YAMLNode, parent: String?, markers: [String]) -> [TaskNode] {
        let context = parent.map { "flow '\($0)'" } ?? "flow"
        guard let m = MappingReader(node, context: context, sink: sink, entryNoun: "task") else {
            sink.brokenTasks.insert(parent ?? "")
            return []
        }
        if m.pairs.isEmpty {
            sink.error("\(context): the flow has no tasks", at: node.location)
        }
        return m.keys.compactMap { _, key, value in
            guard let name = key.identifier("task name", sink) else { return nil }
            let path = parent.map { "\($0).\(name)" } ?? name
            let node = decodeTaskNode(name, key.location, value, path: path, markers: markers)
            if node == nil { sink.brokenTasks.insert(path) }
            return node
        }
    }

    private func decodeTaskNode(_ name: String, _ at: SourceLocation, _ node: YAMLNode, path: String,
                                markers: [String]) -> TaskNode? {
        // A mapping without `type` whose key looks like `flow` (`flwo:`) was meant as a nested flow.
        let isFlow: Bool = if case .mapping(let pairs) = node.content {
            pairs.contains { $0.key.scalar == "flow" }
                || (!pairs.contains { $0.key.scalar == "type" }
                    && pairs.contains { Suggestion.closest(to: $0.key.scalar ?? "", among: ["flow"]) != nil })
        } else { false }
        let context = isFlow ? "flow '\(path)'" : "task '\(path)'"
        guard var m = MappingReader(node, context: context, sink: sink,
                                    expecting: "a mapping with 'type' (a task) or 'flow' (a nested flow)",
                                    owner: at)
        else { return nil }
        let when = m.value("when").flatMap { decodeCondition($0, context: context) }
        if isFlow {
            let children = m.value("flow").map { decodeTaskNodes($0, parent: path, markers: markers) } ?? []
            if !m.has("flow") { sink.brokenTasks.insert(path) }
            m.finish(elsewhere: Dictionary(uniqueKeysWithValues: ["type", "input", "head", "weight", "classes",
                                                                 "labels", "scale", "loss", "rate", "tokens"].map {
                ($0, "belongs to a task; a nested flow has only 'flow' and 'when'")
            }))
            return TaskNode(name: name, location: at, when: when, content: .flow(children))
        }
        let typeNames = TaskType.allCases.map(\.rawValue)
        guard let type = m.required("type", what: typeNames.joined(separator: ", "))?
            .choice("\(context): type", typeNames, sink).flatMap(TaskType.init(rawValue:))
        else {
            m.skip("input", "head", "weight", "classes", "labels", "scale", "loss", "rate", "tokens")
            m.finish()
            return nil
        }
        var spec = TaskSpec(type: type, input: nil, head: [], weight: 1, classes: nil, scale: 1, loss: nil)
        if let input = m.value("input") {
            if let raw = input.scalar, sink.brokenSources.contains(raw) {
                sink.brokenTasks.insert(path)  // reads an input or branch already reported broken
            } else if let text = input.identifier("\(context): input", sink) {
                spec.input = Located(value: text, location: input.location)
            } else {
                sink.brokenTasks.insert(path)  // no default in place of a name that was meant
            }
        }
        if let head = m.value("head") {
            let problemsBefore = sink.count
            spec.head = decodeLayers(head, context: "\(context): head")
            if sink.count > problemsBefore { sink.brokenTasks.insert(path) }
        }
        spec.weight = m.value("weight")?.double("\(context): weight", in: 0...Double.greatestFiniteMagnitude, sink) ?? 1
        var elsewhere: [String: String] = [:]
        let classKey = type == .multilabel ? "labels" : "classes"
        if type.hasClasses, let node = m.value(classKey) {
            spec.classes = decodeClasses(node, context: "\(context): \(classKey)", type: type, markers: markers)
        }
        for key in ["classes", "labels"] where !(type.hasClasses && key == classKey) {
            elsewhere[key] = key == "classes" ? "applies to classification and token_classification tasks"
                                              : "applies to multilabel tasks"
        }
        if type == .boundedRegression {
            spec.scale = m.value("scale")?.double("\(context): scale", in: 0...Double.greatestFiniteMagnitude, exclusiveLower: true, sink) ?? 1
        } else {
            elsewhere["scale"] = "applies to bounded_regression tasks"
        }
        if type == .regression || type == .boundedRegression {
            let allowed: [RegressionLoss] = type == .regression ? RegressionLoss.allCases : [.mse, .l1]
            spec.loss = m.value("loss")
                .flatMap { $0.choice("\(context): loss", allowed.map(\.rawValue), sink) }
                .flatMap(RegressionLoss.init(rawValue:)) ?? .mse
        } else {
            elsewhere["loss"] = "applies to regression and bounded_regression tasks; \(type.rawValue) has its own"
        }
        if type == .maskedLanguageModel {
            spec.maskRate = m.value("rate")?.double("\(context): rate", in: 0...1, exclusiveLower: true, sink)
                ?? MaskedLanguageModel.defaultRate
            if let tokens = m.value("tokens"), let name = tokens.identifier("\(context): tokens", sink) {
                spec.maskedInput = Located(value: name, location: tokens.location)
            }
        } else {
            elsewhere["rate"] = "applies to masked_language_model tasks"
            elsewhere["tokens"] = "applies to masked_language_model tasks"
        }
        elsewhere["flow"] = "makes a nested flow, which has no 'type'"
        m.finish(elsewhere: elsewhere)
        return TaskNode(name: name, location: at, when: when, content: .task(spec))
    }

    private func decodeClasses(_ node: YAMLNode, context: String, type: TaskType,
                               markers: [String]) -> Located<[String]>? {
        let items: [YAMLNode]
        switch node.content {
        case .sequence(let list): items = list
        case .scalar where !node.isNull: items = [node]
        default:
            sink.error("\(context): expected a list, found \(node.kindDescription)", at: node.location)
            return nil
        }
        // Every item is judged, so that each bad name is reported.
        var names: [String] = []
        var valid = true
        for item in items {
            guard let name = item.string(context, sink) else {
                valid = false
                continue
            }
            if names.contains(name) {
                sink.error("\(context): '\(name)' is listed twice", at: item.location)
                valid = false
            }
            if markers.contains(name) {
                sink.error("\(context): '\(name)' marks a missing label in the data, so no row could have it",
                           at: item.location, hint: "rename it, or change data.missing")
                valid = false
            }
            if type == .multilabel, name == "none" || name.contains("|") || name.isEmpty {
                sink.error("\(context): '\(name)' cannot be a label name ('none' is the empty set, "
                           + "'|' joins labels)", at: item.location)
                valid = false
            }
            names.append(name)
        }
        let minimum = type == .multilabel ? 1 : 2
        if items.count < minimum {
            sink.error("\(context): list at least \(minimum) \(type == .multilabel ? "label" : "classes")",
                       at: node.location)
            return nil
        }
        return valid ? Located(value: names, location: node.location) : nil
    }

    private func decodeCondition(_ node: YAMLNode, context: String) -> Condition<Located<String>>? {
        guard case .scalar(let text, let isPlain) = node.content, !node.isNull else {
            sink.error("\(context): when: expected a condition such as 'not door_open', found \(node.kindDescription)",
                       at: node.location)
            return nil
        }
        // Columns inside a quoted scalar start after the quote.
        let origin = isPlain || !node.isVerbatim ? node.location : node.location.advanced(by: 1)
        do {
            return try ConditionParser.parse(text, at: origin, exactColumns: node.isVerbatim)
        } catch {
            var problem = error
            problem.message = "\(context): \(error.message)"
            sink.report(problem)
            return nil
        }
    }

    // MARK: train

    private func decodeTraining(_ node: YAMLNode?) -> TrainingSettings {
        var settings = TrainingSettings(
            epochs: 10, batchSize: 32,
            optimizer: OptimizerSettings(name: .adam, learningRate: 0.001, weightDecay: 0, momentum: 0.9,
                                         nesterov: false, betas: (0.9, 0.999), clipNorm: nil),
            schedule: .default, seed: 1, lossWeighting: .fixed,
            sampling: .shuffle, initialization: .torch)
        guard let node, var m = MappingReader(node, context: "train", sink: sink) else { return settings }
        let epochsNode = m.value("epochs")
        let epochs = epochsNode?.int("train.epochs", in: 1...100_000, sink)
        settings.epochs = epochs ?? settings.epochs
        settings.batchSize = m.value("batch_size")?.int("train.batch_size", in: 1...1_048_576, sink) ?? settings.batchSize
        settings.seed = m.value("seed")?.int("train.seed", in: 0...Int(UInt32.max), sink) ?? settings.seed
        if let o = m.value("optimizer") { settings.optimizer = decodeOptimizer(o, default: settings.optimizer) }
        if let s = m.value("schedule") {
            // An invalid epoch count was reported; the warm-up is not checked against a default.
            let known = epochsNode == nil || epochs != nil
            settings.schedule = decodeSchedule(s, epochs: known ? settings.epochs : nil) ?? settings.schedule
        }
        settings.lossWeighting = m.value("loss_weighting").flatMap(decodeLossWeighting) ?? .fixed
        settings.lossWeightingLocation = m.keyLocation("loss_weighting")
        settings.sampling = m.value("sampling")
            .flatMap { $0.choice("train.sampling", Sampling.allCases.map(\.rawValue), sink) }
            .flatMap(Sampling.init(rawValue:)) ?? .shuffle
        settings.initialization = m.value("init")
            .flatMap { $0.choice("train.init", WeightInit.allCases.map(\.rawValue), sink) }
            .flatMap(WeightInit.init(rawValue:)) ?? settings.initialization
        settings.diagnostics = m.value("diagnostics").map(decodeDiagnostics) ?? .off
        m.finish()
        return settings
    }

    /// `diagnostics: true` (or false), or a mapping whose missing keys are on: writing the
    /// mapping asks for diagnostics, so a part is turned off by saying so.
    private func decodeDiagnostics(_ node: YAMLNode) -> DiagnosticsSettings {
        if case .scalar = node.content {
            return node.bool("train.diagnostics", sink).map { $0 ? .on : .off } ?? .off
        }
        guard var m = MappingReader(node, context: "train.diagnostics", sink: sink,
                                   expecting: "true, false or a mapping") else { return .off }
        var diagnostics = DiagnosticsSettings.on
        diagnostics.layers = m.value("layers")?.bool("train.diagnostics.layers", sink) ?? diagnostics.layers
        diagnostics.worstSamples = m.value("worst_samples")?
            .int("train.diagnostics.worst_samples", in: 0...DiagnosticsSettings.maxWorstSamples, sink) ?? diagnostics.worstSamples
        m.finish()
        return diagnostics
    }

    private func decodeOptimizer(_ node: YAMLNode, default base: OptimizerSettings) -> OptimizerSettings {
        var o = base
        // `optimizer: sgd` is short for `optimizer: {name: sgd}`.
        if case .scalar = node.content {
            o.name = node.choice("train.optimizer", OptimizerName.allCases.map(\.rawValue), sink)
                .flatMap(OptimizerName.init(rawValue:)) ?? o.name
            if o.name == .adamw { o.weightDecay = 0.01 }
            return o
        }
        guard var m = MappingReader(node, context: "train.optimizer", sink: sink) else { return o }
        let nameNode = m.value("name")
        let name = nameNode
            .flatMap { $0.choice("train.optimizer.name", OptimizerName.allCases.map(\.rawValue), sink) }
            .flatMap(OptimizerName.init(rawValue:))
        o.name = name ?? .adam
        if o.name == .adamw { o.weightDecay = 0.01 }
        o.learningRate = m.value("lr")?.double("train.optimizer.lr", in: 0...10, exclusiveLower: true, sink) ?? o.learningRate
        o.weightDecay = m.value("weight_decay")?.double("train.optimizer.weight_decay", in: 0...1, sink) ?? o.weightDecay
        o.clipNorm = m.value("clip_norm")?.double("train.optimizer.clip_norm", in: 0...1e9, exclusiveLower: true, sink)
        var elsewhere: [String: String] = [:]
        if nameNode != nil, name == nil {
            // The name was reported; the keys of whichever optimiser was meant are not judged.
            m.skip("momentum", "nesterov", "betas")
        } else if o.name == .sgd {
            o.momentum = m.value("momentum")?.double("train.optimizer.momentum", in: 0...1, exclusiveUpper: true, sink) ?? o.momentum
            o.nesterov = m.value("nesterov")?.bool("train.optimizer.nesterov", sink) ?? false
            elsewhere["betas"] = "applies to adam and adamw; sgd has 'momentum'"
        } else {
            if let betas = m.value("betas"), let items = betas.list("train.optimizer.betas", sink) {
                if items.count == 2 {
                    let b1 = items[0].double("train.optimizer.betas", in: 0...1, exclusiveUpper: true, sink)
                    let b2 = items[1].double("train.optimizer.betas", in: 0...1, exclusiveUpper: true, sink)
                    if let b1, let b2 { o.betas = (b1, b2) }
                } else {
                    sink.error("train.optimizer.betas: expected two numbers [beta1, beta2]", at: betas.location)
                }
            }
            for key in ["momentum", "nesterov"] { elsewhere[key] = "applies to sgd; \(o.name.rawValue) has 'betas'" }
        }
        m.finish(elsewhere: elsewhere)
        return o
    }

    /// `loss_weighting: dwa` or `{name: dwa, temperature: 2}`; each balancer's keys are errors
    /// under another, saying which one they belong to.
    private func decodeLossWeighting(_ node: YAMLNode) -> LossWeighting? {
        let context = "train.loss_weighting"
        if case .scalar = node.content {
            return node.choice(context, LossWeighting.names, sink).flatMap(LossWeighting.named)
        }
        guard var m = MappingReader(node, context: context, sink: sink) else { return nil }
        let own = ["dwa": ["temperature"], "gradnorm": ["alpha", "lr", "branch"]]
        guard let name = m.required("name", what: LossWeighting.names.joined(separator: ", "))?
            .choice("\(context).name", LossWeighting.names, sink), var weighting = LossWeighting.named(name)
        else {
            m.skip("temperature", "alpha", "lr", "branch")
            m.finish()
            return nil
        }
        switch weighting {
        case .dwa(let temperature):
            weighting = .dwa(temperature: m.value("temperature")?
                .double("\(context).temperature", in: 0...100, exclusiveLower: true, sink) ?? temperature)
        case .gradnorm(let alpha, let rate, _):
            let branch = m.value("branch").flatMap { node in
                node.identifier("\(context).branch", sink).map { Located(value: $0, location: node.location) }
            }
            weighting = .gradnorm(alpha: m.value("alpha")?.double("\(context).alpha", in: 0...10, sink) ?? alpha,
                                  rate: m.value("lr")?.double("\(context).lr", in: 0...1, exclusiveLower: true, sink) ?? rate,
                                  branch: branch)
        default: break
        }
        var elsewhere: [String: String] = [:]
        for (owner, keys) in own where owner != name {
            for key in keys { elsewhere[key] = "applies to \(owner)" }
        }
        m.finish(elsewhere: elsewhere)
        return weighting
    }

    /// `epochs` is nil when the flow's epoch count was invalid (and reported).
    private func decodeSchedule(_ node: YAMLNode, epochs: Int?) -> Schedule? {
        let names = ["constant", "step", "cosine", "cooldown"]
        if case .scalar = node.content {
            guard let name = node.choice("train.schedule", names, sink) else { return nil }
            switch name {
            case "step": return Schedule(kind: .step(stepSize: nil, gamma: 0.1), warmupEpochs: 0)
            case "cosine": return Schedule(kind: .cosine(minimumFactor: 0), warmupEpochs: 0)
            case "cooldown": return .default
            default: return Schedule(kind: .constant, warmupEpochs: 0)
            }
        }
        guard var m = MappingReader(node, context: "train.schedule", sink: sink) else { return nil }
        let nameNode = m.value("name")
        let chosen = nameNode.flatMap { $0.choice("train.schedule.name", names, sink) }
        if nameNode != nil, chosen == nil { m.skip("step_size", "gamma", "min_factor", "fraction") }
        let name = chosen ?? "cooldown"
        let warmup = m.value("warmup_epochs")?.int("train.schedule.warmup_epochs", in: 0...100_000, sink) ?? 0
        var elsewhere: [String: String] = [:]
        let kind: Schedule.Kind
        switch name {
        case "step":
            let size = m.value("step_size")?.int("train.schedule.step_size", in: 1...100_000, sink)
            let gamma = m.value("gamma")?.double("train.schedule.gamma", in: 0...1, exclusiveLower: true, sink) ?? 0.1
            kind = .step(stepSize: size, gamma: gamma)
        case "cosine":
            let minimum = m.value("min_factor")?.double("train.schedule.min_factor", in: 0...1, sink) ?? 0
            kind = .cosine(minimumFactor: minimum)
        case "cooldown":
            let fraction = m.value("fraction")?.double("train.schedule.fraction", in: 0...1, exclusiveLower: true, sink)
            kind = .cooldown(fraction: fraction ?? Schedule.defaultCooldown)
        default:
            kind = .constant
        }
        // Each schedule's own keys are errors under another that say where they belong.
        let owners = [("step", ["step_size", "gamma"]), ("cosine", ["min_factor"]), ("cooldown", ["fraction"])]
        for (owner, keys) in owners where owner != name {
            for key in keys { elsewhere[key] = "applies to the \(owner) schedule" }
        }
        m.finish(elsewhere: elsewhere)
        if let epochs, warmup >= epochs, warmup > 0 {
            sink.error("train.schedule.warmup_epochs: \(warmup) warm-up epochs leave none of the \(epochs) to train",
                       at: m.keyLocation("warmup_epochs"))
        }
        return Schedule(kind: kind, warmupEpochs: warmup)
    }
}
