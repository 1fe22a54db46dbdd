import FileFormats

/// Checks a resolved flow's `search:` against the flow, before anything runs: every parameter's
/// path leads to a value of the flow written out in full (`FlowTree`), the objective's task
/// exists, `grid` has only values it can enumerate and no more trials than combinations, and
/// `asha` has rungs below the last epoch. Whether a metric exists for the objective's task is
/// for `flowtrain search` to check (the metrics are the task types' own).
struct SearchPathCheck {
    let flow: ResolvedFlow
    let sink: DiagnosticSink

    func check(_ search: SearchSettings) {
        let tree: FlowTree
        do { tree = try FlowTree(flow.flow) } catch {
            sink.report(error)
            return
        }
        for parameter in search.parameters {
            if case let .notFound(_, reason, hint) = tree.lookup(parameter.steps) {
                sink.error("search.parameters: '\(parameter.path)': \(reason)", at: parameter.location, hint: hint)
            }
        }
        checkObjective(search.objective)
        switch search.algorithm {
        case .grid: checkGrid(search)
        case .asha: checkRungs(search)
        case .random: break
        }
    }

    private func checkObjective(_ objective: SearchSettings.Objective) {
        guard let task = objective.task else { return }
        let paths = flow.tasks.map(\.path.description)
        guard !paths.contains(task.value) else { return }
        // A task's own name, when only one task has it, is suggested as its full path.
        let named = paths.filter { $0.split(separator: ".").last.map(String.init) == task.value }
        let hint = named.count == 1 ? "did you mean '\(named[0])'?" : Suggestion.hint(for: task.value, among: paths)
        sink.error("search.objective.task: the flow has no task '\(task.value)'", at: task.location, hint: hint)
    }

    /// Grid search enumerates: `choice` and `int` values only, and at most every combination.
    private func checkGrid(_ search: SearchSettings) {
        var combinations = 1
        for parameter in search.parameters {
            switch parameter.domain {
            case .choice(let values): combinations = combinations.multipliedReportingOverflow(by: values.count).partialValue
            case let .integer(low, high): combinations = combinations.multipliedReportingOverflow(by: high - low + 1).partialValue
            case .uniform, .logUniform:
                sink.error("search.parameters: '\(parameter.path)': grid search enumerates values; give a {choice: [...]} or "
                           + "an {int: [low, high]}", at: parameter.location)
                return
            }
        }
        if let trials = search.trials, trials > combinations || combinations <= 0 {
            sink.error("search.trials: grid search has \(combinations) combinations, fewer than \(trials) trials",
                       at: search.keyLocations["trials"] ?? search.location, hint: "leave 'trials' out to run every combination")
        }
    }

    /// asha trains to `min_epochs`, `min_epochs`·η… epochs: the first rung must come before the last epoch,
    /// which no trial may change.
    private func checkRungs(_ search: SearchSettings) {
        let epochs = flow.flow.training.epochs
        if search.minEpochs >= epochs {
            sink.error("search.min_epochs: asha's first rung (\(search.minEpochs) epochs) must come before the flow's last "
                       + "epoch (train.epochs: \(epochs))", at: search.keyLocations["min_epochs"] ?? search.location)
        }
        for parameter in search.parameters where parameter.path == "train.epochs" {
            sink.error("search.parameters: 'train.epochs': asha decides how long each trial trains, up to train.epochs; "
                       + "use random or grid to search it", at: parameter.location)
        }
    }
}
