import Dispatch
import Foundation

/// How long reading a flow's data took, phase by phase: what `train` prints in one figure and
/// `bench --data` in full.
public struct LoadTimings: Sendable {
    /// Bytes of CSV read (every file once).
    public var bytes = 0
    /// Reading the files and splitting them into fields.
    public var split = 0.0
    /// Learning the statistics (vocabularies, classes, normalisation) from the training split.
    public var statistics = 0.0
    /// Encoding every split's inputs, labels and precondition masks.
    public var encode = 0.0

    public var total: Double { split + statistics + encode }

    /// Runs `work` and adds its wall time in seconds to `phase`.
    mutating func time<Result, Failure: Error>(_ phase: WritableKeyPath<LoadTimings, Double>,
                                               _ work: () throws(Failure) -> Result) throws(Failure) -> Result {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { self[keyPath: phase] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try work()
    }
}
