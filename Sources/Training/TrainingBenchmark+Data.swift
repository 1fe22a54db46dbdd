import FileFormats
import Foundation

extension TrainingBenchmark {
    /// Reading the flow's data, phase by phase, and training epochs on it (`bench --data`).
    public struct DataFigures: Sendable {
        /// Bytes of the data files (a file that holds several splits counts once).
        public var bytes: Int
        /// The median over the repetitions of each phase's seconds, and of their sum.
        public var split, statistics, encode, total: Double
        /// Where each epoch's time went, in the order trained.
        public var epochs: [(epoch: Int, timings: EpochTimings)]
        /// Why training stopped before every epoch was timed, if it did.
        public var epochFailure: (any Error)?
    }

    /// Reads the flow's data `repeats` times, then trains `epochs` epochs on it in a scratch run
    /// directory (removed after). A data file that cannot be read is thrown; a training that
    /// fails is a figure (`epochFailure`), after the epochs it timed.
    public func measureData(epochs: Int) throws(Problem) -> DataFigures {
        var runs: [LoadTimings] = []
        var data: TrainingData?
        for _ in 0..<repeats {
            let loaded = try TrainingData.load(flow)
            data = loaded
            runs.append(loaded.timings)
        }
        var figures = DataFigures(bytes: runs[0].bytes, split: Self.median(runs.map(\.split)),
                                  statistics: Self.median(runs.map(\.statistics)), encode: Self.median(runs.map(\.encode)),
                                  total: Self.median(runs.map(\.total)), epochs: [])
        if let data { (figures.epochs, figures.epochFailure) = timeEpochs(epochs, on: data) }
        return figures
    }

    private func timeEpochs(_ epochs: Int, on data: TrainingData) -> ([(epoch: Int, timings: EpochTimings)], (any Error)?) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var timed: [(epoch: Int, timings: EpochTimings)] = []
        var trainer = Trainer(flow: flow, data: data, run: RunDirectory(url: directory), epochs: epochs,
                              seed: flow.flow.training.seed, flowText: "") { _, _ in }
        trainer.timed = { timed.append((epoch: $0, timings: $1)) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try trainer.train()
        } catch {
            return (timed, error)
        }
        return (timed, nil)
    }
}
