import FileFormats
import FlowSpec
import Foundation

/// Writes a drafted flow as YAML, each choice with a comment saying why, and a line per choice
/// for the terminal. The trunk and training block follow the shipped flows: for images the
/// security demo's (convolutions, batchnorm and pooling down to 8 pixels or fewer, Adam, 20
/// epochs), for tables the orders demo's (piecewise-linear numbers, dense 128 → 64, AdamW,
/// cosine, DWA, 8 epochs), which docs/training.md measured against PyTorch and gradient boosting.
struct DraftWriter {
    private(set) var text = ""
    private(set) var decisions: [String] = []
    private var names = Set<String>()

    init(request: FlowDraft.Request, table: CSVTable, inputs: [(profile: ColumnProfile, guess: InputGuess)], tree: DraftTree) {
        let flowDirectory = request.flowFile.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        let flowName = Self.flowName(request.flowFile ?? request.data[0])
        line("# Written by `flowtrain init` from \((request.data[0] as NSString).lastPathComponent) (\(table.rowCount) rows, "
             + "\(table.header.count) columns). Read the comments, then `flowtrain check` and `flowtrain train` it.")
        line("name: \(flowName)")
        writeData(request, flowDirectory: flowDirectory, rows: table.rowCount)
        let branchSources = writeInputs(inputs, request: request, flowDirectory: flowDirectory, rows: table.rowCount)
        let hasImages = !branchSources.images.isEmpty
        writeTrunk(branchSources, hasImages: hasImages)
        line("")
        line("flow:")
        writeChildren(of: tree.root, tree: tree, indent: "  ")
        writeTrain(hasImages: hasImages, rows: table.rowCount)
    }

    private mutating func line(_ text: String) { self.text += text + "\n" }

    // MARK: data

    private mutating func writeData(_ request: FlowDraft.Request, flowDirectory: String, rows: Int) {
        line("data:")
        let paths = request.data.map { Self.yamlString(Self.relativePath($0, from: flowDirectory)) }
        if paths.count == 1 {
            line("  # One file: a seeded shuffle holds out 10% of the rows for validation and 10% for testing.")
            line("  file: \(paths[0])")
            line("  split: {valid: 0.1, test: 0.1, seed: 1}")
            decisions.append("data: \(request.data[0]) split 80/10/10 by a seeded shuffle")
        } else {
            for (key, path) in zip(["train", "valid", "test"], paths) { line("  \(key): \(path)") }
        }
        line("")
    }

    // MARK: inputs

    /// The inputs the trunk reads, by kind: vectors, texts, and images with their larger side.
    private struct TrunkSources {
        var vectors: [String] = [], tokens: [String] = [], images: [(name: String, side: Int)] = []
    }

    /// Writes the inputs; returns what the trunk reads.
    private mutating func writeInputs(_ inputs: [(profile: ColumnProfile, guess: InputGuess)], request: FlowDraft.Request,
                                      flowDirectory: String, rows: Int) -> TrunkSources {
        line("inputs:")
        var sources = TrunkSources()
        let numeric = inputs.filter { $0.guess == .numeric }.map(\.profile)
        if !numeric.isEmpty {
            let name = Self.name(for: "numbers", in: &names)
            let holes = numeric.filter { $0.missingCount > 0 }
            line("  # \(numeric.count) numeric column\(numeric.count == 1 ? "" : "s"), standardised, each through a piecewise-linear "
                 + "encoding (quantile bins of the training split), as the orders demo reads its numbers.")
            if !holes.isEmpty {
                line("  # Empty cells become the training mean, plus a 0/1 column saying so: "
                     + holes.map { "\($0.name) (\($0.missingCount))" }.joined(separator: ", ") + ".")
            }
            let bins = min(255, max(16, rows / 100))
            line("  \(name): {type: numeric, columns: [\(numeric.map { Self.yamlString($0.name) }.joined(separator: ", "))], "
                 + "normalize: standard, missing: mean, encoding: piecewise_linear, bins: \(bins), dimension: 16}")
            decisions.append("input \(name): numeric, \(numeric.count) columns")
            sources.vectors.append(name)
        }
        for (profile, guess) in inputs {
            switch guess {
            case .numeric:
                continue
            case let .image(height, width, channels):
                let name = Self.name(for: profile.name, in: &names)
                line("  # Image paths; the first image is \(width)×\(height) with \(channels) channel\(channels == 1 ? "" : "s").")
                var fields = "type: image, column: \(Self.yamlString(profile.name)), shape: [\(height), \(width), \(channels)]"
                if let directory = request.imagesRelativeTo {
                    fields += ", directory: \(Self.yamlString(Self.relativePath(directory, from: flowDirectory)))"
                }
                line("  \(name): {\(fields)}")
                decisions.append("input \(name): image \(height)×\(width)×\(channels)")
                sources.images.append((name, max(height, width)))
            case let .tokens(maxLength):
                let name = Self.name(for: profile.name, in: &names)
                line("  # Text of \(String(format: "%.1f", profile.meanWords)) words on average, \(profile.mostWords) at most: "
                     + "tokens, lowercased, words seen at least twice.")
                line("  \(name): {type: tokens, column: \(Self.yamlString(profile.name)), max_length: \(maxLength), min_count: 2, lowercase: true}")
                decisions.append("input \(name): tokens, \(maxLength) positions")
                sources.tokens.append(name)
            case let .category(values, embedding):
                let name = Self.name(for: profile.name, in: &names)
                let column = name == profile.name ? "" : "column: \(Self.yamlString(profile.name)), "
                if let embedding {
                    line("  # \(values) values: an embedding of width 1.6·n^0.56 (at most 32).")
                    line("  \(name): {type: category, \(column)embedding: \(embedding)}")
                } else {
                    line("  # \(values) values\(profile.missingCount > 0 ? ", the empty cell one of them" : ""): one-hot.")
                    line("  \(name): {type: category, \(column)encoding: one_hot}")
                }
                decisions.append("input \(name): category, \(values) values")
                sources.vectors.append(name)
            case .leftOut(let reason):
                line("  # Left out: \(profile.name), \(reason).")
                decisions.append("left out \(profile.name): \(reason)")
            }
        }
        line("")
        return sources
    }

    // MARK: trunk

    private mutating func writeTrunk(_ sources: TrunkSources, hasImages: Bool) {
        line("trunk:")
        var from: [String] = []
        for (input, side) in sources.images {
            let branch = Self.name(for: input + "_features", in: &names)
            line("  # The security demo's convolutions: each stage halves the image, down to 8 pixels or fewer.")
            line("  \(branch):")
            line("    from: \(input)")
            line("    layers:")
            var size = side, filters = 16
            repeat {
                line("      - conv: {filters: \(filters), kernel: 3, padding: same}")
                line("      - batchnorm")
                line("      - relu")
                line("      - maxpool: 2")
                size = (size + 1) / 2
                filters = min(128, filters * 2)
            } while size > 8
            line("      - flatten")
            line("      - dense: 256")
            line("      - relu")
            from.append(branch)
        }
        for input in sources.tokens {
            let branch = Self.name(for: input + "_text", in: &names)
            line("  # Each word sees the others through a transformer block; the mean over the words is the text's vector.")
            line("  \(branch):")
            line("    from: \(input)")
            line("    layers: [embedding: 32, positional, transformer: {heads: 2, hidden: 64}, pool]")
            from.append(branch)
        }
        from += sources.vectors
        let shared = Self.name(for: "features", in: &names)
        line("  \(shared):")
        line("    from: [\(from.joined(separator: ", "))]")
        line(hasImages ? "    layers: [dense: 128, relu, dropout: 0.1]" : "    layers: [dense: 128, relu, layernorm, dense: 64, relu]")
    }

    // MARK: tasks

    private mutating func writeChildren(of node: DraftTree.Node, tree: DraftTree, indent: String) {
        // Targets side by side that share a condition: one nested flow would hold them, had their columns a common prefix.
        var sharing: [String: [String]] = [:]
        for child in node.children where child.task != nil && !child.condition.isEmpty {
            sharing[conditionText(child.condition, at: child), default: []].append(child.name)
        }
        for child in node.children {
            if let task = child.task {
                writeTask(task, child, indent: indent, sharing: sharing)
            } else {
                line("\(indent)\(child.name):")
                writeCondition(child, indent: indent + "  ", what: "any of its tasks")
                line("\(indent)  flow:")
                writeChildren(of: child, tree: tree, indent: indent + "    ")
            }
        }
    }

    private mutating func writeTask(_ task: DraftTask, _ node: DraftTree.Node, indent: String, sharing: [String: [String]]) {
        line("\(indent)\(node.name):")
        let inner = indent + "  "
        line("\(inner)# \(task.guess.evidence); \(task.profile.presentCount) rows labelled, \(task.profile.missingCount) not.")
        switch task.guess.kind {
        case .binary:
            line("\(inner)type: binary")
        case .classification(let classes):
            line("\(inner)type: classification")
            line("\(inner)classes: [\(classes.map(Self.yamlString).joined(separator: ", "))]")
        case .multilabel(let labels):
            line("\(inner)type: multilabel")
            line("\(inner)labels: [\(labels.map(Self.yamlString).joined(separator: ", "))]")
        case .boundedRegression(let scale):
            line("\(inner)type: bounded_regression")
            line("\(inner)scale: \(FlowNumber.text(scale))")
        case .regression:
            line("\(inner)type: regression")
        }
        if !node.condition.isEmpty, let others = sharing[conditionText(node.condition, at: node)], others.count > 1 {
            line("\(inner)# Shares this condition with \(others.filter { $0 != node.name }.joined(separator: ", ")): "
                 + "columns named GROUP.\(node.name) and so on would make them one nested flow.")
        }
        writeCondition(node, indent: inner, what: "a label")
        decisions.append("task \(node.path): \(task.guess.kind.typeName)"
                         + (node.condition.isEmpty ? "" : ", when: \(conditionText(node.condition, at: node))"))
    }

    private mutating func writeCondition(_ node: DraftTree.Node, indent: String, what: String) {
        guard !node.condition.isEmpty else { return }
        for atom in node.condition {
            let missing = atom.unknown > 0 ? " where \(atom.parent) is known (it is missing in \(atom.unknown))" : ""
            line("\(indent)# \(atom.carrying + atom.unknown) rows have \(what), and \(atom.text(atom.parent)) holds in all of them\(missing); "
                 + "it fails in \(atom.failing) rows, none with \(what).")
        }
        line("\(indent)when: \(conditionText(node.condition, at: node))")
        if node.task == nil { decisions.append("nested flow \(node.path): when: \(conditionText(node.condition, at: node))") }
    }

    /// The atoms joined by `and`, each parent named as `when:` resolves it from `node`: a
    /// sibling by its name, anything else by its full path.
    private func conditionText(_ atoms: [PreconditionInference.Atom], at node: DraftTree.Node) -> String {
        let enclosing = node.path.split(separator: ".").dropLast().joined(separator: ".")
        return atoms.map { atom in
            let parentEnclosing = atom.parent.split(separator: ".").dropLast().joined(separator: ".")
            let name = parentEnclosing == enclosing ? String(atom.parent.split(separator: ".").last ?? "") : atom.parent
            return atom.text(name)
        }.joined(separator: " and ")
    }

    // MARK: train

    private mutating func writeTrain(hasImages: Bool, rows: Int) {
        line("")
        line("train:")
        if hasImages {
            line("  # The security demo's: Adam at 0.001 after a warm-up epoch, then a cosine decay.")
            line("  epochs: 20")
            line("  batch_size: 64")
            line("  optimizer: {name: adam, lr: 0.001}")
            line("  schedule: {name: cosine, warmup_epochs: 1}")
        } else {
            line("  # The orders demo's: AdamW, a cosine decay and losses balanced by how fast each still falls (DWA).")
            line("  epochs: 8")
            line("  batch_size: \(rows >= 50_000 ? 512 : 64)")
            line("  optimizer: {name: adamw, lr: 0.002, weight_decay: 0.01, clip_norm: 5}")
            line("  schedule: cosine")
            line("  loss_weighting: dwa")
        }
        line("  seed: 1")
    }

    // MARK: names and text

    /// A flow name from a file's base name (letters, digits, `_`, `-`, `.`).
    static func flowName(_ file: String) -> String {
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let cleaned = String(base.unicodeScalars.map { scalar -> Character in
            let ok = scalar == "_" || scalar == "-" || scalar == "." || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ("0"..."9").contains(scalar)
            return ok ? Character(scalar) : "_"
        })
        guard let first = cleaned.unicodeScalars.first, first != "-", first != "." else { return "flow_" + cleaned }
        return cleaned
    }

    /// A name (letters, digits, `_`) for `text`, not yet in `taken`, which it joins.
    static func name(for text: String, in taken: inout Set<String>) -> String {
        var base = String(text.unicodeScalars.map { scalar -> Character in
            scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                ? Character(scalar) : "_"
        })
        if base.isEmpty || base.first?.isNumber == true || Identifier.keywords.contains(base) { base = "_" + base }
        var name = base, n = 2
        while taken.contains(name) { name = "\(base)_\(n)"; n += 1 }
        taken.insert(name)
        return name
    }

    /// `text` as a YAML scalar: bare when it is a plain word YAML reads as that string, quoted
    /// otherwise.
    static func yamlString(_ text: String) -> String {
        let plain = text.unicodeScalars.first.map { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || "_./".unicodeScalars.contains($0) } ?? false
            && text.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0 == "." || $0 == "/" || ("a"..."z").contains($0)
                || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(text.lowercased())
        return plain ? text : FlowWriter.quote(text)
    }

    /// `path` relative to `directory` ("" is the current directory); absolute paths stay so.
    static func relativePath(_ path: String, from directory: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = { (p: String) in URL(fileURLWithPath: p, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true)).standardizedFileURL.path }
        let target = absolute(path).split(separator: "/"), base = absolute(directory.isEmpty ? "." : directory).split(separator: "/")
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        // Only the root in common: the absolute path says more than a climb to it.
        if common == 0 { return "/" + target.joined(separator: "/") }
        let up = Array(repeating: "..", count: base.count - common)
        return (up + target[common...].map(String.init)).joined(separator: "/")
    }
}

extension TaskGuess.Kind {
    var typeName: String {
        switch self {
        case .binary: "binary"
        case .classification: "classification"
        case .multilabel: "multilabel"
        case .boundedRegression: "bounded_regression"
        case .regression: "regression"
        }
    }
}
