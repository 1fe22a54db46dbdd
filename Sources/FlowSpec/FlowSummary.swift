import Foundation

/// What `check` prints about a resolved flow: its inputs, trunk, task tree and training, each
/// line with its output shape and parameter count (formulas where the data decides them), as
/// aligned text here and as JSON for scripts (`FlowSummary+JSON.swift`).
public struct FlowSummary {
    public let flow: ResolvedFlow

    public init(_ flow: ResolvedFlow) { self.flow = flow }

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

    /// The summary as aligned text, one line per input, layer and task.
    public var text: String {
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
            return "\(names.count) columns " + names.prefix(3).joined(separator: ", ") + ", …, " + (names.last ?? "")
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
            addLayers(layer.shortcut, indent: indent + "  shortcut ", to: &table)
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
                if task.spec.type == .maskedLanguageModel {
                    line += ", masks \(FlowNumber.text(task.spec.maskRate)) of \(task.tokensInput ?? "its input")"
                }
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
}
