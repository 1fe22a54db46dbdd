/// Where one trial stands: its values, status, objective at each rung it reached, and its
/// learning curve (the objective after every epoch it trained), as trials.csv keeps them.
public struct TrialRecord: Sendable {
    /// A trial's state; `paused` and `running` are states of a search under way (or killed).
    public enum Status: String, Sendable, CaseIterable {
        /// Not started yet.
        case pending
        /// A job of it is training (to the rung after the last it finished).
        case running
        /// Stopped at a rung below the last; `asha` may still promote it.
        case paused
        /// Stopped at a rung below the last when the search ended: not among the best of its rung.
        case stopped
        /// Trained every epoch.
        case completed
        /// Its flow was invalid, or its training failed: `note` says why.
        case failed
    }

    public var trial: Int
    public var values: [TrialValue]
    public var status: Status = .pending
    /// The objective after each rung it finished, in rung order.
    public var rungObjectives: [Double] = []
    /// The objective after each epoch trained (index 0: epoch 1).
    public var curve: [Double] = []
    /// Why it failed.
    public var note = ""

    public init(trial: Int, values: [TrialValue]) {
        self.trial = trial
        self.values = values
    }

    /// Its objective after the last rung it finished, if any.
    public var lastObjective: Double? { rungObjectives.last }
}
