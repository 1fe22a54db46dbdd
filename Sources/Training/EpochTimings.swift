import Dispatch

/// Where the wall time of one training epoch went: the training steps themselves (forward,
/// backward, optimiser) against everything around them. `bench --data` prints it.
public struct EpochTimings: Sendable {
    /// Forward, backward and optimiser steps.
    public var steps = 0.0
    /// Loading each batch: its rows gathered, its images augmented.
    public var batches = 0.0
    /// Training metrics from each step's outputs, and the epoch's metrics from them.
    public var metrics = 0.0
    /// The pass over the validation split.
    public var validation = 0.0
    /// Layer statistics and the hardest samples (`diagnostics: true`).
    public var diagnostics = 0.0
    /// Weights, checkpoint, metrics.csv, events and state.json.
    public var saving = 0.0
    /// The whole epoch.
    public var total = 0.0

    public init() {}

    /// Runs `work` and adds its wall time in seconds to `phase`.
    mutating func time<Result, Failure: Error>(_ phase: WritableKeyPath<EpochTimings, Double>,
                                               _ work: () throws(Failure) -> Result) throws(Failure) -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { self[keyPath: phase] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try work()
    }
}
