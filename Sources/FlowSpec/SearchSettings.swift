/// The `search:` section: the hyper-parameter search `flowtrain search` runs over the flow
/// (docs/flow-format.md, "search"). Training ignores it; every parameter's path is checked
/// against the flow when the flow is loaded (`SearchPathCheck`).
public struct SearchSettings: Sendable {
    /// How trials are chosen and how long each trains.
    public enum Algorithm: String, Sendable, CaseIterable {
        /// Independent draws, each trained for every epoch.
        case random
        /// Every combination of the parameters' choices, in order, each trained for every epoch.
        case grid
        /// Random draws under asynchronous successive halving (Li et al., 2018).
        case asha
    }

    /// Whether a lower or a higher objective is better.
    public enum Goal: String, Sendable, CaseIterable {
        case minimize, maximize
    }

    /// What a trial is judged by, read from its `metrics.csv`: a task's metric, or without a
    /// task the weighted loss Σ weight × loss a run picks its best epoch by.
    public struct Objective: Sendable {
        /// A task path (`delivery.shipped_late`); nil for the weighted loss of every task.
        public var task: Located<String>?
        /// `valid` or `train`.
        public var split: String
        /// A metric name of `metrics.csv` (`loss`, `f1_score`, `mean_absolute_error`…).
        public var metric: Located<String>
        public var goal: Goal
        /// Whether `goal` was written (else it follows the metric: losses and errors are minimised).
        public var goalIsExplicit: Bool

        public init(task: Located<String>?, split: String, metric: Located<String>, goal: Goal, goalIsExplicit: Bool) {
            (self.task, self.split, self.metric, self.goal, self.goalIsExplicit) = (task, split, metric, goal, goalIsExplicit)
        }

        /// `valid.loss`, `valid.delivery.shipped_late.f1_score`: how trials.csv and progress name it.
        public var name: String {
            [split, task?.value, metric.value].compactMap { $0 }.joined(separator: ".")
        }
    }

    /// The values a parameter takes.
    public enum Domain: Sendable {
        /// One of these values as written (numbers, names or whole mappings).
        case choice([YAMLNode])
        /// A number drawn evenly between the bounds.
        case uniform(Double, Double)
        /// A positive number whose logarithm is drawn evenly between the bounds' logarithms.
        case logUniform(Double, Double)
        /// A whole number from `lower` to `upper`, each equally likely.
        case integer(Int, Int)
    }

    /// One searched value: a dotted path into the flow as written out in full (`FlowWriter`),
    /// such as `train.optimizer.lr` or `trunk.shared.layers.0.dense`.
    public struct Parameter: Sendable {
        public var path: String
        public var location: SourceLocation
        public var domain: Domain

        /// The path's steps: mapping keys, and list indices as digits.
        public var steps: [String] { path.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
    }

    public var objective: Objective
    public var algorithm: Algorithm
    /// Trials to run; nil: every combination under `grid`, `defaultTrials` otherwise.
    public var trials: Int?
    /// asha's first rung, in epochs.
    public var minEpochs: Int
    /// asha's η: a rung keeps the best 1/η of its trials, and each rung trains η times as long.
    public var reduction: Int
    /// The seed of the draws (`flowtrain search --seed` replaces it).
    public var seed: Int
    public var parameters: [Parameter]
    /// Where `search:` was written.
    public var location: SourceLocation
    /// Where each of its keys was written (`min_epochs`, `trials`…), for problems found later.
    public var keyLocations: [String: SourceLocation] = [:]

    public static let defaultTrials = 20
}
