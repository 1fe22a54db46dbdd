import FileFormats
import Foundation

/// A checksum of each entry of what the training split taught, kept in the checkpoint: a run
/// resumed on data that changed meanwhile would go on with other normalisation, vocabularies or
/// classes than its weights were trained with, so `train --resume` compares them and refuses.
extension DataStatistics {
    /// Per entry, named as a user would (`numeric input 'x'`, `the classes of task 'kind'`): the
    /// CRC-32C of its JSON, as state.json holds it.
    var fingerprints: [String: UInt32] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func checksum(_ value: some Encodable) -> UInt32 {
            CRC32C.checksum((try? encoder.encode(value)) ?? Data())
        }
        var result: [String: UInt32] = [:]
        for (name, stats) in numeric { result["numeric input '\(name)'"] = checksum(stats) }
        for (name, values) in vocabularies { result["the vocabulary of input '\(name)'"] = checksum(values) }
        for (path, names) in classes { result["the classes of task '\(path)'"] = checksum(names) }
        for (path, standardization) in regression { result["regression task '\(path)'"] = checksum(standardization) }
        return result
    }

    /// The entries whose fingerprints differ from `recorded` (or that only one of them has),
    /// in the order of their names.
    func changes(since recorded: [String: UInt32]) -> [String] {
        let current = fingerprints
        return Set(current.keys).union(recorded.keys).filter { current[$0] != recorded[$0] }.sorted()
    }
}

extension Checkpoint {
    /// Refuses to continue a run on training data whose statistics differ from those it
    /// started with; a finished run trains no more, so it is left to be resumed as it is.
    public func checkSameStatistics(_ data: TrainingData, run: RunDirectory) throws(Problem) {
        guard epoch < epochs else { return }
        let changed = data.statistics.changes(since: statistics)
        guard !changed.isEmpty else { return }
        throw Problem(file: data.train.file, message: "the training split's statistics differ from those the run in "
                      + "\(run.url.path) started with (\(changed.joined(separator: ", "))); a run resumes on the data "
                      + "it started with: restore the data, or train a new run with another --run-dir")
    }
}
