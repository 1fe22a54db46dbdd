import ArgumentParser
import Engine
import Evaluation
import FileFormats
import Foundation
import Training

/// The run directory argument and thread count shared by the commands that read a trained run.
struct RunOptions: ParsableArguments {
    @Argument(help: "The run directory written by `flowtrain train`.", completion: .directory)
    var runDir: String

    @OptionGroup var threads: ThreadOptions

    /// Opens the run (flow, state and, unless told otherwise, thresholds and calibration) and
    /// sets up the engine's threads. Throws what `TrainedRun.open` does.
    func open(thresholds: Bool = true, calibration: Bool = true) throws -> TrainedRun {
        EngineThreads.configure(threads.count)
        return try TrainedRun.open(RunDirectory(url: URL(fileURLWithPath: runDir)), thresholds: thresholds,
                                   calibration: calibration)
    }
}

/// The data a run-reading command works on: a split of the flow's data or any CSV file.
struct DataOptions: ParsableArguments {
    /// The splits of a flow's data.
    enum Split: String, ExpressibleByArgument, CaseIterable {
        case test, valid, train
    }

    @Option(help: "The split of the flow's data to use.")
    var split: Split = .test

    @Option(help: "A CSV file with the flow's input columns to use instead of a split (label columns optional).",
            completion: .file(extensions: ["csv"]))
    var data: String?

    /// The rows, and the name `evaluation.csv` gives them (the split, or the file's path).
    /// `labels` says what to do with a file's label columns.
    func load(_ run: TrainedRun, labels: SplitEncoder.LabelColumns) throws(Problem) -> (split: EncodedSplit, name: String) {
        if let data { return (try run.data(file: data, labels: labels), data) }
        return (try run.split(split.rawValue), split.rawValue)
    }
}
