import FileFormats
import FlowSpec
import Testing
@testable import Search

/// The trials' values: grid in exact nested-loop order, random draws fixed by the seed.
struct TrialSamplerTests {
    static func flow(_ search: String) throws -> ResolvedFlow {
        try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv, valid: valid.csv}
            inputs:
              x: {type: numeric, columns: [a, b]}
            trunk:
              shared: {from: x, layers: [dense: 8, relu]}
            flow:
              open: {type: binary}
              size: {type: regression, when: open, weight: 2}
            train: {epochs: 9}
            search:
            \(search)
            """.utf8), file: "flow.yaml")
    }

    @Test func gridEnumeratesEveryCombinationInOrder() throws {
        let search = try #require(try Self.flow("""
              algorithm: grid
              parameters:
                train.loss_weighting: {choice: [fixed, {name: dwa, temperature: 1}]}
                trunk.shared.layers.0.dense: {int: [4, 6]}
                train.batch_size: {choice: [16, 32]}
            """).flow.search)
        #expect(TrialSampler.combinations(search.parameters) == 12)
        let trials = TrialSampler.trials(search, count: 12, seed: 1).map { $0.map(\.text) }
        var expected: [[String]] = []
        for weighting in ["fixed", "{name: dwa, temperature: 1}"] {
            for width in ["4", "5", "6"] {
                for batch in ["16", "32"] { expected.append([weighting, width, batch]) }
            }
        }
        #expect(trials == expected)
        // The seed draws nothing in a grid; fewer trials are its first combinations.
        #expect(TrialSampler.trials(search, count: 5, seed: 9).map { $0.map(\.text) } == Array(expected.prefix(5)))
    }

    @Test func drawsAreFixedByTheSeedAndWithinTheirRanges() throws {
        let search = try #require(try Self.flow("""
              algorithm: random
              parameters:
                train.optimizer.lr: {loguniform: [1.0e-4, 3.0e-2]}
                flow.size.weight: {uniform: [0.5, 4]}
                train.batch_size: {int: [8, 12]}
                train.loss_weighting: {choice: [fixed, dwa, gradnorm]}
            """).flow.search)
        let first = TrialSampler.trials(search, count: 40, seed: 7)
        let again = TrialSampler.trials(search, count: 27, seed: 7)
        #expect(first.prefix(27).map { $0.map(\.text) } == again.map { $0.map(\.text) })
        let other = TrialSampler.trials(search, count: 40, seed: 8)
        #expect(first.map { $0.map(\.text) } != other.map { $0.map(\.text) })
        for trial in first {
            let lr = try #require(trial[0].number), weight = try #require(trial[1].number), batch = try #require(trial[2].number)
            #expect((1e-4...3e-2).contains(lr) && (0.5...4).contains(weight) && (8...12).contains(batch))
            #expect(batch == batch.rounded() && trial[2].text == String(Int(batch)))
            #expect(["fixed", "dwa", "gradnorm"].contains(trial[3].text))
            // Four significant digits: what trials.csv shows is what trains.
            #expect(Double(trial[0].text) == lr && TrialSampler.significant(lr) == lr)
        }
        // Over 40 draws, every choice and both ends of each range's halves come up.
        #expect(Set(first.map { $0[3].text }).count == 3)
        #expect(first.contains { ($0[0].number ?? 0) < 2e-3 } && first.contains { ($0[0].number ?? 0) > 2e-3 })
    }

    @Test func aTrialsFlowHasItsValuesAtTheirPaths() throws {
        let flow = try Self.flow("""
              parameters:
                trunk.shared.layers.0.dense: {choice: [32]}
                flow.size.weight: {choice: [3.5]}
                train.loss_weighting: {choice: [{name: dwa, temperature: 1.5}]}
                train.schedule.warmup_epochs: {choice: [2]}
            """)
        let search = try #require(flow.flow.search)
        var tree = try FlowTree(flow.flow)
        for (parameter, value) in zip(search.parameters, TrialSampler.trials(search, count: 1, seed: 1)[0]) {
            tree = tree.replacing(parameter.steps, with: value.node)
        }
        let trial = try FlowLoader.load(bytes: Array(tree.yaml.utf8), file: "trial.yaml")
        #expect(trial.flow.search == nil)
        guard case .dense(let units, _, _) = trial.flow.trunk[0].layers[0].kind else { Issue.record("not dense"); return }
        #expect(units == 32)
        #expect(trial.task(TaskPath(["size"]))?.spec.weight == 3.5)
        #expect(trial.flow.training.lossWeighting == .dwa(temperature: 1.5))
        #expect(trial.flow.training.schedule.warmupEpochs == 2)
        // Everything else is the flow's own.
        #expect(trial.flow.training.epochs == 9 && trial.task(TaskPath(["open"]))?.spec.weight == 1)
    }

    /// The objective's metric must be one its task has, said where it is written.
    @Test func anUnknownObjectiveMetricIsLocated() throws {
        let flow = try Self.flow("""
              objective: {task: open, metric: f1score}
              parameters:
                train.batch_size: {int: [8, 12]}
            """)
        let search = try #require(flow.flow.search)
        #expect(throws: Problem.self) { try TrialObjective(search.objective, flow: flow) }
        do {
            _ = try TrialObjective(search.objective, flow: flow)
        } catch {
            #expect(error.location == Problem.Location(file: "flow.yaml", line: 12, column: 35))
            #expect(error.hint == "did you mean 'f1_score'?")
        }
        #expect(search.objective.goal == .maximize)
    }
}
