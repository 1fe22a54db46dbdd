/// Resolves a decoded `Flow`: names of inputs, branches and tasks; composed preconditions;
/// cycles among branches and among preconditions; shapes and parameter counts.
struct FlowResolver {
    let flow: Flow
    let sink: DiagnosticSink

    func resolve() -> ResolvedFlow? {
        var inputs = flow.inputs.map(resolveInput)
        let branches = resolveTrunk(inputs)
        let (tasks, tree) = resolveTasks(inputs: inputs, branches: branches)
        AugmentationResolver(flow: flow, sink: sink).resolve(&inputs, tasks: tasks)
        checkLabelsAreNotInputs()
        let resolved = ResolvedFlow(flow: flow, inputs: inputs, branches: branches, tasks: tasks, tree: tree)
        checkGradNorm(resolved)
        if (resolved.trunkParameters + resolved.headParameters).isTooLarge {
            sink.error("the flow would hold more than \(SymbolicCount.grouped(SymbolicCount.limit)) parameters",
                       at: SourceLocation(file: flow.file, line: 1, column: 1))
        }
        guard sink.isEmpty else { return nil }
        return resolved
    }

    /// GradNorm compares the gradients several tasks send to one branch: the branch must exist
    /// and at least two tasks must read it directly.
    private func checkGradNorm(_ resolved: ResolvedFlow) {
        guard case .gradnorm(_, _, let named) = flow.training.lossWeighting else { return }
        let at = flow.training.lossWeightingLocation ?? SourceLocation(file: flow.file, line: 1, column: 1)
        let branchNames = resolved.branches.map(\.branch.name)
        if let named, !branchNames.contains(named.value) {
            sink.error("train.loss_weighting.branch: the trunk has no branch '\(named.value)'", at: named.location,
                       hint: Suggestion.hint(for: named.value, among: branchNames))
            return
        }
        guard let branch = resolved.gradNormBranch else {
            sink.error("train.loss_weighting: gradnorm measures task gradients on a trunk branch, and the flow has none",
                       at: at, hint: "use dwa or uncertainty, which need no shared layer")
            return
        }
        let readers = resolved.tasks.filter { $0.inputName == branch }.count
        if readers < 2 {
            sink.error("train.loss_weighting: gradnorm balances the tasks that read branch '\(branch)' directly, "
                       + "and \(readers == 0 ? "none does" : "only one does")", at: named?.location ?? at,
                       hint: "name a branch several tasks read with 'branch:', or use dwa")
        }
    }

    /// An input that reads a task's label column would hand the model its answer.
    private func checkLabelsAreNotInputs() {
        var labels = Set<String>()
        func collect(_ nodes: [TaskNode], _ prefix: String) {
            for node in nodes {
                let path = prefix + node.name
                switch node.content {
                case .task: labels.insert(path)
                case .flow(let children): collect(children, path + ".")
                }
            }
        }
        collect(flow.tasks, "")
        for input in flow.inputs {
            let columns: [String] = switch input.kind {
            case .numeric(.names(let names), _, _): names
            case .numeric(.pattern, _, _): []
            default: [input.column]
            }
            for column in columns where labels.contains(column) {
                sink.error("input '\(input.name)' reads column '\(column)', which holds the labels of task '\(column)'",
                           at: input.location, hint: "an input must not see the answer it is trained to predict")
            }
        }
    }

    // MARK: Inputs

    private func resolveInput(_ input: Input) -> ResolvedInput {
        switch input.kind {
        case let .image(h, w, c, _):
            return ResolvedInput(input: input, shape: .image(height: h, width: w, channels: c), parameters: SymbolicCount(0))
        case let .numeric(columns, _, missing):
            var width = switch columns {
            case .names(let names): SymbolicCount(names.count)
            case .pattern(let glob): SymbolicCount(symbol: "columns(\(glob))")
            }
            var parameters = SymbolicCount(0)
            if let encoding = input.numericEncoding {
                parameters = width * SymbolicCount(encoding.parametersPerColumn)
                width = width * SymbolicCount(encoding.width)
            }
            if missing == .mean { width = width + SymbolicCount(symbol: "indicators(\(input.name))") }
            return ResolvedInput(input: input, shape: .vector(width), parameters: parameters)
        case .tokens(let settings):
            return ResolvedInput(input: input, shape: .tokenIDs(length: settings.maxLength, input: input.name),
                                 parameters: SymbolicCount(0))
        case .category(let encoding, _):
            let vocabulary = SymbolicCount(symbol: "vocabulary(\(input.name))")
            switch encoding {
            case .embedding(let width):
                return ResolvedInput(input: input, shape: .vector(SymbolicCount(width)),
                                     parameters: vocabulary * SymbolicCount(width))
            case .oneHot:
                return ResolvedInput(input: input, shape: .vector(vocabulary), parameters: SymbolicCount(0))
            }
        }
    }

    // MARK: Trunk

    private func resolveTrunk(_ inputs: [ResolvedInput]) -> [ResolvedBranch] {
        let inputNames = Set(inputs.map(\.input.name))
        let branchNames = flow.trunk.map(\.name)
        var branchByName: [String: Branch] = [:]
        for branch in flow.trunk {
            if inputNames.contains(branch.name) {
                sink.error("branch '\(branch.name)' has the same name as an input; `from:` could not tell them apart",
                           at: branch.location)
            }
            branchByName[branch.name] = branchByName[branch.name] ?? branch
        }
        var edges: [String: [Located<String>]] = [:]
        for branch in flow.trunk {
            for source in branch.sources {
                if source.value == branch.name, !inputNames.contains(branch.name) {
                    sink.error("branch '\(branch.name)' reads from itself", at: source.location)
                } else if branchByName[source.value] != nil, source.value != branch.name {
                    edges[branch.name, default: []].append(source)
                } else if !inputNames.contains(source.value), !sink.brokenSources.contains(source.value) {
                    sink.error("branch '\(branch.name)': 'from' names unknown input or branch '\(source.value)'",
                               at: source.location,
                               hint: Suggestion.hint(for: source.value, among: inputs.map(\.input.name) + branchNames))
                }
            }
        }
        let cycles = CycleFinder.cycles(nodes: branchNames, edges: { edges[$0] ?? [] })
        for cycle in cycles {
            sink.error("branch '\(cycle.names[0])': trunk branches form a cycle: "
                       + (cycle.names + [cycle.names[0]]).joined(separator: " → "), at: cycle.firstEdge.location)
        }
        // Branches in dependency order; branches on a cycle, behind one, or whose sources failed
        // are left out silently: their problem is reported once, above.
        let order = CycleFinder.topologicalOrder(nodes: branchNames, edges: { edges[$0]?.map(\.value) ?? [] })
        let inference = ShapeInference(sink: sink)
        var shapes: [String: Shape] = Dictionary(inputs.map { ($0.input.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        var resolved: [ResolvedBranch] = []
        for name in order {
            guard let branch = branchByName[name], !sink.brokenSources.contains(name) else { continue }
            let context = "branch '\(name)'"
            let sourceShapes = branch.sources.compactMap { shapes[$0.value] }
            guard !branch.sources.isEmpty, sourceShapes.count == branch.sources.count else { continue }
            let inputShape: Shape
            if sourceShapes.count == 1 {
                inputShape = sourceShapes[0]
            } else {
                var width = SymbolicCount(0)
                var failed = false
                for (source, shape) in zip(branch.sources, sourceShapes) {
                    guard let flat = shape.flattened else {
                        sink.error("\(context): cannot concatenate '\(source.value)', which gives \(shape.phrase)",
                                   at: source.location, hint: "embed the tokens in a branch of their own first")
                        failed = true
                        continue
                    }
                    width = width + flat
                }
                if failed { continue }
                inputShape = .vector(width)
            }
            guard let layers = inference.infer(branch.layers, from: inputShape, context: context) else { continue }
            let result = ResolvedBranch(branch: branch, inputShape: inputShape, layers: layers)
            shapes[name] = result.output
            resolved.append(result)
        }
        return resolved
    }

    // MARK: Tasks

    private func resolveTasks(inputs: [ResolvedInput], branches: [ResolvedBranch])
        -> ([ResolvedTask], [TaskTreeNode]) {
        let tree = TaskTree(flow.tasks)
        var conditions = PreconditionResolver(tree: tree, sink: sink)
        conditions.resolveAll()
        let edges = conditions.edges
        let leaves = tree.leaves
        let cycles = CycleFinder.cycles(nodes: leaves.map(\.path), edges: { edges[$0] ?? [] })
        for cycle in cycles {
            sink.error("\(conditions.ownerAt[cycle.firstEdge.location] ?? "task '\(cycle.names[0])'"): preconditions form a cycle: "
                       + (cycle.names + [cycle.names[0]]).map(\.description).joined(separator: " → "),
                       at: cycle.firstEdge.location)
        }
        let order = cycles.isEmpty
            ? CycleFinder.topologicalOrder(nodes: leaves.map(\.path), edges: { edges[$0]?.map(\.value) ?? [] })
            : leaves.map(\.path)

        // Heads read a branch or an input; the default is the last branch declared, or the only input.
        var shapes: [String: Shape] = Dictionary(inputs.map { ($0.input.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        for branch in branches { shapes[branch.branch.name] = branch.output }
        let knownNames = inputs.map(\.input.name) + flow.trunk.map(\.name)
        let defaultInput = flow.trunk.last?.name ?? (sink.declaredInputs == 1 && inputs.count == 1 ? inputs[0].input.name : nil)
        let inference = ShapeInference(sink: sink)

        var resolved: [ResolvedTask] = []
        var indexByPath: [TaskPath: Int] = [:]
        var maskedInputs: Set<String> = []
        for path in order {
            guard let node = tree.node(path), case .task(let spec) = node.node.content,
                  !sink.brokenTasks.contains(path.description) else { continue }
            let context = "task '\(path)'"
            let inputName: String
            if let input = spec.input {
                guard knownNames.contains(input.value) else {
                    if sink.brokenSources.contains(input.value) { continue }
                    sink.error("\(context): input names unknown branch or input '\(input.value)'", at: input.location,
                               hint: Suggestion.hint(for: input.value, among: knownNames))
                    continue
                }
                inputName = input.value
            } else if let defaultInput {
                inputName = defaultInput
            } else {
                // With no trunk, the default is the only input declared. A broken trunk or input
                // was reported already.
                if sink.declaredInputs > 1, !sink.trunkIsBroken {
                    sink.error("\(context): no 'input:' given, and with no trunk there is no default among "
                               + "several inputs", at: node.node.location,
                               hint: inputs.first.map { "name one, e.g. 'input: \($0.input.name)'" } ?? "name one")
                }
                continue
            }
            // A branch whose own shapes failed has already been reported.
            guard let inputShape = shapes[inputName] else { continue }
            var vocabularyOf: String?
            if spec.type == .maskedLanguageModel {
                let feeding = ResolvedFlow.tokensInput(feeding: inputName, inputs: inputs, branches: branches)
                if let named = spec.maskedInput {
                    guard let input = inputs.first(where: { $0.input.name == named.value })?.input else {
                        sink.error("\(context): tokens names unknown input '\(named.value)'", at: named.location,
                                   hint: Suggestion.hint(for: named.value, among: inputs.map(\.input.name)))
                        continue
                    }
                    guard case .tokens = input.kind else {
                        sink.error("\(context): tokens: '\(named.value)' is \(input.typeName == "image" ? "an" : "a") "
                                   + "\(input.typeName) input; a masked_language_model masks the tokens of a tokens input",
                                   at: named.location)
                        continue
                    }
                    if let feeding, feeding.name != named.value {
                        sink.error("\(context): tokens: '\(named.value)' is not the input whose positions '\(inputName)' "
                                   + "holds ('\(feeding.name)' is)", at: named.location,
                                   hint: "the model predicts the masked tokens from the sequence it reads")
                        continue
                    }
                }
                if let feeding {
                    guard maskedInputs.insert(feeding.name).inserted else {
                        sink.error("\(context): a second masked_language_model on input '\(feeding.name)'",
                                   at: spec.input?.location ?? node.node.location, hint: "one masks each tokens input")
                        continue
                    }
                }
                vocabularyOf = feeding?.name
            }
            guard let head = inference.infer(spec.head, from: inputShape, context: "\(context): head"),
                  let output = inference.outputLayer(for: path, spec: spec, after: head.last?.output ?? inputShape,
                                                     at: spec.input?.location ?? node.node.location,
                                                     inputName: inputName, vocabularyOf: vocabularyOf)
            else { continue }
            indexByPath[path] = resolved.count
            resolved.append(ResolvedTask(path: path, spec: spec, location: node.node.location,
                                         precondition: conditions.composed[path] ?? nil, inputName: inputName,
                                         inputShape: inputShape, head: head, outputLayer: output,
                                         ownPrecondition: conditions.own[path] ?? nil,
                                         tokensInput: spec.type == .tokenClassification || spec.type == .maskedLanguageModel
                                             ? ResolvedFlow.tokensInput(feeding: inputName, inputs: inputs, branches: branches)?.name
                                             : nil))
        }

        func treeNodes(_ nodes: [TaskTree.Entry]) -> [TaskTreeNode] {
            nodes.compactMap { entry in
                switch entry.node.content {
                case .task: return indexByPath[entry.path].map { .task($0) }
                case .flow: return .flow(path: entry.path, when: conditions.own[entry.path] ?? nil,
                                         children: treeNodes(tree.children(of: entry.path)))
                }
            }
        }
        return (resolved, treeNodes(tree.children(of: nil)))
    }
}
