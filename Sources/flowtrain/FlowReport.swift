import FlowSpec
import Foundation

/// What `check` prints about a resolved flow, as aligned text or as JSON.
struct FlowReport {
    let flow: ResolvedFlow

    init(_ flow: ResolvedFlow) { self.flow = flow }

    // MARK: Text

    /// Rows of three columns: the description, the output shape, the parameter count.
    private struct Table {
        var rows: [(String, String, String)] = []
        mutating func add(_ text: String, _ shape: String = "", _ parameters: String = "") {
            rows.append((text, shape, parameters))
        }
        var text: String {
            let first = rows.filter { !$0.1.isEmpty || !$0.2.isEmpty }.map(\.0.count).max() ?? 0
            let second = rows.map(\.1.count).max() ?? 0
            func pad(_ text: String, _ width: Int) -> String {
                text + String(repeating: " ", count: max(0, width - text.count))
            }
            return rows.map { row in
                guard !row.1.isEmpty || !row.2.isEmpty else { return row.0 }
                return row.2.isEmpty ? pad(row.0, first + 2) + row.1 : pad(row.0, first + 2) + pad(row.1, second + 2) + row.2
            }.joined(separator: "\n") + "\n"
        }
    }

    var text: String {
        var table = Table()
        let f = flow.flow
        table.add("flow \(f.name) (\(f.file))")
        table.add("data: " + dataSummary(f.data))
        table.add("")
        table.add("inputs", "shape", "params")
        for input in flow.inputs {
            table.add("  \(input.input.name): \(input.input.typeName), \(source(of: input.input))",
                      input.shape.description, parameters(input.parameters))
            if let augmentation = input.augmentation { table.add("    augment: " + augmentationSummary(augmentation)) }
            if let encoding = input.input.numericEncoding { table.add("    encoding: " + encodingSummary(encoding)) }
        }
        if !flow.branches.isEmpty {
            table.add("")
            table.add("trunk", "output", "params")
            for branch in flow.branches {
                let sources = branch.branch.sources.map(\.value).joined(separator: " + ")
                var notes: [String] = []
                if let initial = branch.branch.initialWeights { notes.append("from \(initial.file.value)") }
                if !branch.branch.trainable { notes.append("frozen") }
                let note = notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))"
                table.add("  \(branch.branch.name) ← \(sources)\(note)", branch.inputShape.description)
                addLayers(branch.layers, indent: "    ", to: &table)
            }
        }
        table.add("")
        table.add("tasks", "output", "params")
        addTree(flow.tree, prefix: "  ", to: &table)
        table.add("")
        table.add(training)
        table.add("")
        let total = flow.trunkParameters + flow.headParameters
        table.add("parameters: \(flow.trunkParameters) in inputs and trunk + \(flow.headParameters) in heads = \(total)")
        return table.text
    }

    /// `flip horizontal, crop 0.85–1, brightness ±0.1; boxes: face_x1 face_y1 face_w face_h`: the
    /// transforms of training batches, and how coordinate tasks follow them.
    private func augmentationSummary(_ resolved: ResolvedAugmentation) -> String {
        let a = resolved.settings
        let number = { (value: Double) in FlowNumber.text(value) }
        var transforms: [String] = []
        if a.flipHorizontal { transforms.append("flip horizontal") }
        if a.flipVertical { transforms.append("flip vertical") }
        if a.rot90 { transforms.append("rot90") }
        if let crop = a.crop { transforms.append("crop \(number(crop.lowerBound))–\(number(crop.upperBound))") }
        if let blur = a.blur {
            transforms.append("blur σ \(number(blur.sigma.lowerBound))–\(number(blur.sigma.upperBound)) p \(number(blur.probability))")
        }
        if a.brightness > 0 { transforms.append("brightness ±\(number(a.brightness))") }
        if a.contrast > 0 { transforms.append("contrast ±\(number(a.contrast))") }
        var text = transforms.isEmpty ? "nothing" : transforms.joined(separator: ", ")
        func names(_ paths: [TaskPath]) -> String { paths.map(\.name).joined(separator: " ") }
        let groups = [("boxes", resolved.boxes.map(names)), ("points", resolved.points.map(names)),
                      ("invariant", resolved.invariant.isEmpty ? [] : [names(resolved.invariant)])]
        for (key, items) in groups where !items.isEmpty { text += "; \(key): " + items.joined(separator: ", ") }
        return text
    }

    /// `piecewise_linear, 48 bins, dense 8 per column`: what each numeric column becomes.
    private func encodingSummary(_ encoding: NumericEncoding) -> String {
        switch encoding {
        case let .piecewiseLinear(bins, dimension):
            "piecewise_linear, \(bins) bins" + (dimension.map { ", dense \($0) per column" } ?? "")
        case let .periodic(frequencies, dimension, sigma):
            "periodic, \(frequencies) frequencies (σ \(FlowNumber.text(sigma))), dense \(dimension) + relu per column"
        }
    }

    private func dataSummary(_ data: DataSource) -> String {
        var parts: [String] = []
        if let file = data.file { parts.append("file \(file)") }
        if let train = data.train { parts.append("train \(train)") }
        if let valid = data.valid { parts.append("valid \(valid)") }
        if let test = data.test { parts.append("test \(test)") }
        if let split = data.split {
            parts.append("split valid \(split.valid), test \(split.test), seed \(split.seed)")
        }
        return parts.joined(separator: ", ")
    }

    /// `train: 20 epochs, batch 64, adam lr 0.001, loss weighting gradnorm (alpha 1.5, lr 0.025,
    /// on branch 'common'), sampling shuffle, init torch`: what training will do, with the balancer's settings.
    private var training: String {
        let t = flow.flow.training
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(x) }
        let weighting: String = switch t.lossWeighting {
        case .fixed, .uncertainty: t.lossWeighting.name
        case .dwa(let temperature): "dwa (temperature \(number(temperature)))"
        case let .gradnorm(alpha, rate, _):
            "gradnorm (alpha \(number(alpha)), lr \(number(rate)), on branch '\(flow.gradNormBranch ?? "")')"
        }
        return "train: \(t.epochs) epochs, batch \(t.batchSize), \(t.optimizer.name.rawValue) lr "
            + "\(number(t.optimizer.learningRate)), loss weighting \(weighting), sampling \(t.sampling.rawValue), "
            + "init \(t.initialization.rawValue)"
    }

    private func source(of input: Input) -> String {
        guard case .numeric(let columns, _, _) = input.kind else { return "column '\(input.column)'" }
        switch columns {
        case .names(let names) where names.count > 6:
            return "\(names.count) columns " + names.prefix(3).joined(separator: ", ") + ", …, " + names.last!
        case .names(let names): return "columns " + names.joined(separator: ", ")
        case .pattern(let glob): return "columns matching '\(glob)'"
        }
    }

    private func parameters(_ count: SymbolicCount) -> String {
        count.known == 0 ? "" : count.description
    }

    private func addLayers(_ layers: [ResolvedLayer], indent: String, to table: inout Table) {
        for layer in layers {
            table.add(indent + LayerDescription.summary(layer.layer.kind), layer.output.description,
                      parameters(layer.parameters))
            addLayers(layer.inner, indent: indent + "  ", to: &table)
        }
    }

    private func addTree(_ nodes: [TaskTreeNode], prefix: String, to table: inout Table) {
        for (index, node) in nodes.enumerated() {
            let last = index == nodes.count - 1
            let branch = prefix + (last ? "└── " : "├── ")
            let inner = prefix + (last ? "    " : "│   ")
            switch node {
            case let .flow(path, when, children):
                table.add(branch + "\(path.name) (flow \(path))")
                if let when { table.add(inner + "│ when " + when.text(\.description)) }
                addTree(children, prefix: inner, to: &table)
            case .task(let index):
                let task = flow.tasks[index]
                var line = "\(task.path.name): \(task.spec.type.rawValue)"
                if task.spec.type == .boundedRegression { line += ", scale \(FlowNumber.text(task.spec.scale))" }
                if task.spec.weight != 1 { line += ", weight \(FlowNumber.text(task.spec.weight))" }
                table.add(branch + line)
                let pipe = inner + "  "
                table.add(pipe + "path   \(task.path)")
                table.add(pipe + "when   " + (task.precondition?.text(\.description) ?? "always"))
                if let classes = task.spec.classes?.value {
                    table.add(pipe + (task.spec.type == .multilabel ? "labels " : "classes ")
                              + classes.joined(separator: ", "))
                }
                table.add(pipe + "input  \(task.inputName)", task.inputShape.description)
                addLayers(task.head, indent: pipe + "head   ", to: &table)
                table.add(pipe + "output dense", task.output.description, parameters(task.outputLayer.parameters))
            }
        }
    }

    // MARK: JSON

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Document(flow)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON document: the same facts as the text, keyed for scripts.
    private struct Document: Encodable {
        var name: String
        var file: String
        var inputs: [InputEntry]
        var trunk: [BranchEntry]
        var tasks: [TaskEntry]
        /// Nested flows with their own `when` (already part of each task's `when`).
        var flows: [FlowEntry]
        var parameters: Parameters

        init(_ flow: ResolvedFlow) {
            name = flow.flow.name
            file = flow.flow.file
            inputs = flow.inputs.map { resolved in
                var entry = InputEntry(name: resolved.input.name, type: resolved.input.typeName,
                                       shape: ShapeEntry(resolved.shape), parameters: CountEntry(resolved.parameters))
                switch resolved.input.kind {
                case .numeric(.names(let names), _, _): entry.columns = names
                case .numeric(.pattern(let glob), _, _): entry.column_pattern = glob
                default: entry.column = resolved.input.column
                }
                return entry
            }
            var flows: [FlowEntry] = []
            func collect(_ nodes: [TaskTreeNode]) {
                for case let .flow(path, when, children) in nodes {
                    flows.append(FlowEntry(path: path.description, when: when?.text(\.description)))
                    collect(children)
                }
            }
            collect(flow.tree)
            self.flows = flows
            trunk = flow.branches.map { branch in
                BranchEntry(name: branch.branch.name, from: branch.branch.sources.map(\.value),
                            input_shape: ShapeEntry(branch.inputShape), layers: branch.layers.map(LayerEntry.init),
                            output: ShapeEntry(branch.output), parameters: CountEntry(branch.parameters),
                            init: branch.branch.initialWeights?.file.value, trainable: branch.branch.trainable)
            }
            tasks = flow.tasks.map { task in
                TaskEntry(path: task.path.description, type: task.spec.type.rawValue,
                          when: task.precondition?.text(\.description),
                          depends_on: Array(Set(task.dependencies)).sorted().map(\.description),
                          input: task.inputName, input_shape: ShapeEntry(task.inputShape),
                          head: task.head.map(LayerEntry.init),
                          output: ShapeEntry(task.output), parameters: CountEntry(task.parameters),
                          weight: task.spec.weight,
                          classes: task.spec.type == .multilabel ? nil : task.spec.classes?.value,
                          labels: task.spec.type == .multilabel ? task.spec.classes?.value : nil,
                          scale: task.spec.type == .boundedRegression ? task.spec.scale : nil)
            }
            parameters = Parameters(trunk: CountEntry(flow.trunkParameters), heads: CountEntry(flow.headParameters),
                                    total: CountEntry(flow.trunkParameters + flow.headParameters))
        }
    }

    private struct InputEntry: Encodable {
        var name, type: String
        var column: String?
        var columns: [String]?
        var column_pattern: String?
        var shape: ShapeEntry
        var parameters: CountEntry

        init(name: String, type: String, shape: ShapeEntry, parameters: CountEntry) {
            (self.name, self.type, self.shape, self.parameters) = (name, type, shape, parameters)
        }
    }

    private struct FlowEntry: Encodable {
        var path: String
        var when: String?
    }

    private struct BranchEntry: Encodable {
        var name: String
        var from: [String]
        var input_shape: ShapeEntry
        var layers: [LayerEntry]
        var output: ShapeEntry
        var parameters: CountEntry
        var `init`: String?
        var trainable: Bool
    }

    private struct TaskEntry: Encodable {
        var path, type: String
        var when: String?
        var depends_on: [String]
        var input: String
        var input_shape: ShapeEntry
        var head: [LayerEntry]
        var output: ShapeEntry
        var parameters: CountEntry
        var weight: Double
        var classes: [String]?
        var labels: [String]?
        var scale: Double?
    }

    private struct LayerEntry: Encodable {
        var layer: String
        var summary: String
        var output: ShapeEntry
        var parameters: CountEntry
        var layers: [LayerEntry]?

        init(_ layer: ResolvedLayer) {
            self.layer = LayerDescription.name(layer.layer.kind)
            summary = LayerDescription.summary(layer.layer.kind)
            output = ShapeEntry(layer.output)
            parameters = CountEntry(layer.parameters)
            layers = layer.inner.isEmpty ? nil : layer.inner.map(LayerEntry.init)
        }
    }

    private struct Parameters: Encodable {
        var trunk, heads, total: CountEntry
    }

    /// A count as a JSON number when known, as its formula otherwise.
    private struct CountEntry: Encodable {
        var count: SymbolicCount
        init(_ count: SymbolicCount) { self.count = count }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let known = count.known { try container.encode(known) } else { try container.encode(count.description) }
        }
    }

    /// A shape as a list of dimensions (numbers, or formulas for data-dependent ones).
    private struct ShapeEntry: Encodable {
        var dims: [CountEntry]
        var kind: String

        init(_ shape: Shape) {
            switch shape {
            case .vector(let width): (dims, kind) = ([CountEntry(width)], "vector")
            case let .image(h, w, c): (dims, kind) = ([h, w, c].map { CountEntry(SymbolicCount($0)) }, "image")
            case let .sequence(length, features): (dims, kind) = ([CountEntry(SymbolicCount(length)), CountEntry(features)], "sequence")
            case .tokenIDs(let length, _): (dims, kind) = ([CountEntry(SymbolicCount(length))], "token_ids")
            }
        }
    }
}
