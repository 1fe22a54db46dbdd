import FileFormats
import FlowSpec

/// `best.yaml`: the flow of a search's best trial, every default spelled out as a run's
/// `flow.yaml` has it (data paths absolute), after a comment saying where it comes from. Train
/// it as any flow; it has no `search:` section.
enum BestFlow {
    static func text(_ best: TrialRecord, of search: HyperparameterSearch) throws(Problem) -> String {
        let flow = try FlowLoader.load(bytes: Array(search.flowText(best.trial).utf8), file: search.directory.flowPath(best.trial))
        let written = FlowWriter.yaml(flow.flow) { $0 }
        // FlowWriter's own first line says `train` wrote it.
        let body = written.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().joined()
        let values = zip(search.settings.parameters, best.values).map { "#   \($0.path): \($1.text)\n" }.joined()
        return "# The best trial (\(best.trial) of \(search.values.count)) of `flowtrain search \(search.flow.flow.file)`: "
            + "\(search.settings.objective.name) \(HyperparameterSearch.format(best.lastObjective)) after \(best.curve.count) epochs,\n"
            + "# with\n" + values + "# every default spelled out, data paths absolute.\n" + body
    }
}
