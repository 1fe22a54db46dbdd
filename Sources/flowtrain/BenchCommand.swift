import ArgumentParser
import Engine
import FileFormats
import FlowSpec
import Foundation
import Training

/// `flowtrain bench FLOW.yaml`: time whole training steps against the machine's sgemm peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training speed against this machine's matrix-product peak.",
        discussion: """
            Compiles the flow, feeds it random data of its shapes with labels that follow its \
            preconditions (10% missing), and times whole training steps (forward, backward, \
            optimiser). Prints per batch size the median over the repetitions of samples/s and \
            GFLOP/s (FLOPs counted from the plan), and the share of the sgemm peak: each \
            repetition measures the peak (the best of 3 products) right before its steps and \
            compares it with its fastest step, so that neither side counts what the rest of a \
            shared machine took; the share counting every step follows. \
            Sizes the data would decide (classes not listed, column globs, vocabularies) are \
            taken as 8.
            """)

    @OptionGroup var options: FlowOptions

    // The default is in the help text: an option read through a transform shows none.
    @Option(help: "Comma-separated batch sizes (default: 32,256,1024).", transform: BenchCommand.parseBatches)
    var batch: [Int] = [32, 256, 1024]

    @Option(help: "Timed training steps per repetition.")
    var steps: Int = 20

    @Option(help: "Repetitions; the median is reported.")
    var repeats: Int = 5

    @OptionGroup var threadOptions: ThreadOptions

    @Flag(help: """
        Also print, slowest first, the time of each op's forward and backward and, for the ops \
        whose operations are counted (products, convolutions), their GFLOP/s over both and the \
        share of the repetitions' median sgemm peak.
        """)
    var profile = false

    @Flag(help: """
        Also read the flow's data files (--repeats times, the median reported) and print how long \
        splitting, learning the training statistics and encoding took; then train the flow for \
        --data-epochs epochs on them (in a scratch run directory, removed after) and print where \
        each epoch's time went: the steps themselves against batching, metrics, validation, \
        diagnostics and saving.
        """)
    var data = false

    @Option(help: "Epochs trained with --data.")
    var dataEpochs = 2

    static func parseBatches(_ text: String) throws -> [Int] {
        let sizes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--batch takes positive sizes separated by commas, e.g. 32,256,1024")
        }
        return sizes.compactMap { $0 }
    }

    func validate() throws {
        guard steps >= 1, repeats >= 1 else { throw ValidationError("--steps and --repeats must be at least 1") }
        guard dataEpochs >= 0 else { throw ValidationError("--data-epochs must be 0 or more") }
    }

    func run() throws {
        let flow = try options.load()
        let threads = threadOptions.count
        EngineThreads.configure(threads)
        let bench = TrainingBenchmark(flow: flow, threads: threads, steps: steps, repeats: repeats)
        print("flow \(flow.flow.name), \(threads) thread\(threads == 1 ? "" : "s"), "
              + "sgemm peak \(format(bench.machinePeak().gflops)) GFLOP/s")
        do throws(Problem) {
            try bench.checkMemory(batch: batch.max() ?? 1)
            for size in batch { show(bench.measureSteps(batch: size, profile: profile)) }
            if data { show(try bench.measureData(epochs: dataEpochs)) }
        } catch {
            throw CommandFailure.badInput(error)
        }
        print("peak resident memory \(megabytes(TrainingBenchmark.peakResidentBytes()))")
    }

    private func show(_ step: TrainingBenchmark.StepFigures) {
        print("batch \(step.batch): \(Int(step.samplesPerSecond.rounded())) samples/s, \(format(step.gflops)) GFLOP/s, "
              + "\(percent(step.peakShare)) of sgemm peak (\(format(step.peaks.lowerBound))–\(format(step.peaks.upperBound)) GFLOP/s; "
              + "\(percent(step.meanPeakShare)) counting every step); plan buffers \(megabytes(step.planBytes))")
        guard let profile = step.profile else { return }
        print("  a \(format(1000 * step.seconds)) ms step: ops \(format(1000 * profile.opsSeconds)) ms, "
              + "optimiser \(format(1000 * profile.optimizerSeconds)) ms")
        for (index, op) in profile.ops.prefix(12).enumerated() {
            let speed = profile.speed(of: index).map { ", \(format($0.gflops)) GFLOP/s, \(percent($0.peakShare)) of sgemm peak" } ?? ""
            print("  \(op.op): forward \(format(1e6 * op.forward)) µs, backward \(format(1e6 * op.backward)) µs\(speed)")
        }
    }

    private func show(_ data: TrainingBenchmark.DataFigures) {
        let phases = [("split", data.split), ("statistics", data.statistics), ("encode", data.encode)]
        print("data: \(megabytes(data.bytes)) read in \(format(1000 * data.total)) ms "
              + "(\(String(format: "%.2f", data.total / (Double(data.bytes) / 104_857_600))) s per 100 MB): "
              + phases.map { "\($0.0) \(format(1000 * $0.1)) ms" }.joined(separator: ", "))
        for (epoch, t) in data.epochs {
            let other = t.total - t.steps - t.batches - t.metrics - t.validation - t.diagnostics - t.saving
            let parts = [("steps", t.steps), ("loading batches", t.batches), ("metrics", t.metrics),
                         ("validation", t.validation), ("diagnostics", t.diagnostics), ("saving", t.saving), ("other", other)]
            print("epoch \(epoch): \(format(1000 * t.total)) ms, "
                  + parts.map { "\($0.0) \(format(1000 * $0.1)) ms (\(percent($0.1 / t.total)))" }.joined(separator: ", "))
        }
        if let failure = data.epochFailure { print("epochs not timed: \(failure)") }
    }

    private func percent(_ share: Double) -> String { "\(Int((100 * share).rounded()))%" }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}
