/// Decodes the `search:` section (`SearchSettings`): its keys, types and ranges. Whether each
/// parameter's path exists in the flow is checked once the flow is resolved (`SearchPathCheck`).
extension FlowDecoder {
    func decodeSearch(_ node: YAMLNode, key: SourceLocation) -> SearchSettings? {
        guard var m = MappingReader(node, context: "search", sink: sink, owner: key) else { return nil }
        let objective = m.value("objective").map(decodeObjective)
            ?? SearchSettings.Objective(task: nil, split: "valid", metric: Located(value: "loss", location: key), goal: .minimize,
                                        goalIsExplicit: false)
        let algorithm = m.value("algorithm")
            .flatMap { $0.choice("search.algorithm", SearchSettings.Algorithm.allCases.map(\.rawValue), sink) }
            .flatMap(SearchSettings.Algorithm.init(rawValue:)) ?? .random
        let trials = m.value("trials")?.int("search.trials", in: 1...SearchDecoder.maxTrials, sink)
        let minEpochs = m.value("min_epochs")?.int("search.min_epochs", in: 1...100_000, sink) ?? 1
        let reduction = m.value("reduction")?.int("search.reduction", in: 2...100, sink) ?? 3
        let seed = m.value("seed")?.int("search.seed", in: 0...Int(UInt32.max), sink) ?? 1
        var parameters: [SearchSettings.Parameter] = []
        if let node = m.required("parameters", what: "the flow's values to search, by path") {
            parameters = decodeParameters(node)
        }
        m.finish()
        guard let objective else { return nil }
        return SearchSettings(objective: objective, algorithm: algorithm, trials: trials, minEpochs: minEpochs,
                              reduction: reduction, seed: seed, parameters: parameters, location: key,
                              keyLocations: Dictionary(m.keys.map { ($0.name, $0.key.location) }, uniquingKeysWith: { a, _ in a }))
    }

    /// `{metric: valid.loss}` or `{task: PATH, metric: NAME, goal: maximize}`.
    private func decodeObjective(_ node: YAMLNode) -> SearchSettings.Objective? {
        guard var m = MappingReader(node, context: "search.objective", sink: sink) else { return nil }
        let taskNode = m.value("task")
        let task = taskNode.flatMap { node in
            node.string("search.objective.task", sink).map { Located(value: $0, location: node.location) }
        }
        let metricNode = m.required("metric", what: "valid.loss, or a metric of the task such as f1_score")
        let text = metricNode?.string("search.objective.metric", sink)
        let goalNode = m.value("goal")
        let goal = goalNode?.choice("search.objective.goal", SearchSettings.Goal.allCases.map(\.rawValue), sink)
            .flatMap(SearchSettings.Goal.init(rawValue:))
        m.finish()
        guard let metricNode, var text, taskNode == nil || task != nil, goalNode == nil || goal != nil else { return nil }
        // `valid.f1_score`: the split first; validation when none is written.
        var split = "valid"
        for prefix in ["valid", "train"] where text.hasPrefix(prefix + ".") {
            split = prefix
            text = String(text.dropFirst(prefix.count + 1))
        }
        guard !text.isEmpty, !text.contains(".") else {
            sink.error("search.objective.metric: '\(metricNode.scalar ?? "")' is not a metric; write NAME or SPLIT.NAME "
                       + "(valid.loss, valid.f1_score) and the task under 'task'", at: metricNode.location)
            return nil
        }
        if task == nil, text != "loss" {
            sink.error("search.objective.metric: '\(text)' is a task's metric; name the task with 'task:' "
                       + "(without one, the objective is the weighted loss: valid.loss)", at: metricNode.location)
            return nil
        }
        return SearchSettings.Objective(task: task, split: split, metric: Located(value: text, location: metricNode.location),
                                        goal: goal ?? SearchDecoder.defaultGoal(text), goalIsExplicit: goal != nil)
    }

    private func decodeParameters(_ node: YAMLNode) -> [SearchSettings.Parameter] {
        guard let m = MappingReader(node, context: "search.parameters", sink: sink,
                                    expecting: "a mapping from paths in the flow to values, such as "
                                        + "train.optimizer.lr: {loguniform: [1.0e-4, 3.0e-2]}",
                                    entryNoun: "parameter") else { return [] }
        if m.pairs.isEmpty { sink.error("search.parameters: the search has no parameter", at: node.location) }
        var parameters: [SearchSettings.Parameter] = []
        for (path, key, value) in m.keys {
            let steps = path.split(separator: ".", omittingEmptySubsequences: false)
            guard !path.isEmpty, !steps.contains(where: \.isEmpty) else {
                sink.error("search.parameters: '\(path)' is not a path; write keys and list positions joined by '.', "
                           + "such as train.optimizer.lr or trunk.shared.layers.0.dense", at: key.location)
                continue
            }
            if let other = parameters.first(where: { path.hasPrefix($0.path + ".") || $0.path.hasPrefix(path + ".") }) {
                sink.error("search.parameters: '\(path)' and '\(other.path)' overlap; search one of them", at: key.location)
                continue
            }
            guard let domain = decodeDomain(value, path: path) else { continue }
            parameters.append(SearchSettings.Parameter(path: path, location: key.location, domain: domain))
        }
        return parameters
    }

    /// `{choice: [...]}`, `{uniform: [low, high]}`, `{loguniform: [low, high]}` or `{int: [low, high]}`.
    private func decodeDomain(_ node: YAMLNode, path: String) -> SearchSettings.Domain? {
        let context = "search.parameters.\(path)"
        let kinds = ["choice", "uniform", "loguniform", "int"]
        guard var m = MappingReader(node, context: context, sink: sink,
                                    expecting: "one of {choice: [...]}, {uniform: [low, high]}, {loguniform: [low, high]}, "
                                        + "{int: [low, high]}") else { return nil }
        let given = m.keys.map(\.name).filter(kinds.contains)
        var values: YAMLNode?
        if let kind = given.first { values = m.value(kind) }
        // Read or not, the four kinds are known keys: a misspelt one gets its did-you-mean.
        m.skip("choice", "uniform", "loguniform", "int")
        if given.count > 1 {
            sink.error("\(context): give one of \(kinds.joined(separator: ", ")), not several", at: node.location)
        } else if given.isEmpty, m.pairs.isEmpty {
            sink.error("\(context): expected one of \(kinds.joined(separator: ", "))", at: node.location)
        }
        m.finish()
        guard given.count == 1, let kind = given.first, let values else { return nil }
        guard let items = values.list("\(context).\(kind)", sink) else { return nil }
        if kind == "choice" {
            guard !items.isEmpty else {
                sink.error("\(context).choice: the list is empty", at: values.location)
                return nil
            }
            return .choice(items)
        }
        guard items.count == 2 else {
            sink.error("\(context).\(kind): expected [low, high], found \(items.count) value\(items.count == 1 ? "" : "s")",
                       at: values.location)
            return nil
        }
        if kind == "int" {
            guard let low = items[0].int("\(context).int", in: Int(Int32.min)...Int(Int32.max), sink),
                  let high = items[1].int("\(context).int", in: Int(Int32.min)...Int(Int32.max), sink) else { return nil }
            guard low <= high else {
                sink.error("\(context).int: the low end \(low) is above the high end \(high)", at: values.location)
                return nil
            }
            return .integer(low, high)
        }
        let positive = kind == "loguniform"
        let range = positive ? 0...Double.greatestFiniteMagnitude : -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        guard let low = items[0].double("\(context).\(kind)", in: range, exclusiveLower: positive, sink),
              let high = items[1].double("\(context).\(kind)", in: range, exclusiveLower: positive, sink) else { return nil }
        guard low < high else {
            sink.error("\(context).\(kind): the low end \(YAMLNode.format(low)) is not below the high end "
                       + "\(YAMLNode.format(high))", at: values.location)
            return nil
        }
        return positive ? .logUniform(low, high) : .uniform(low, high)
    }
}

/// The limits and defaults of `search:`.
enum SearchDecoder {
    /// More trials than any search on one machine would run; keeps trials.csv and the page readable.
    static let maxTrials = 100_000

    /// Losses, errors and perplexity are minimised, every other metric (accuracy, f1, r2, AUC) maximised.
    static func defaultGoal(_ metric: String) -> SearchSettings.Goal {
        ["loss", "mean_absolute_error", "rmse", "perplexity"].contains(metric) ? .minimize : .maximize
    }
}
