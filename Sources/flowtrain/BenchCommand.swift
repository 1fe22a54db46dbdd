import ArgumentParser
import Engine
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

    @Flag(help: "Also print the time of each op's forward and backward, slowest first.")
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
        return sizes.map { $0! }
    }

    func validate() throws {
        guard steps >= 1, repeats >= 1 else { throw ValidationError("--steps and --repeats must be at least 1") }
        guard dataEpochs >= 0 else { throw ValidationError("--data-epochs must be 0 or more") }
    }

    func run() throws {
        let flow = try options.load()
        let threads = threadOptions.count
        EngineThreads.configure(threads)
        let peak = SgemmPeak.measure(threads: threads)
        print("flow \(flow.flow.name), \(threads) thread\(threads == 1 ? "" : "s"), "
              + "sgemm peak \(format(peak.gflops)) GFLOP/s")
        let facts = DataFacts.synthetic(for: flow)
        do { try ModelMemory.check(flow, facts: facts, batch: batch.max() ?? 1) } catch { CommandOutput.badInput(error) }
        for size in batch {
            let model = ModelCompiler.compile(flow, facts: facts, maxBatch: size, seed: UInt64(flow.flow.training.seed))
            SyntheticBatch.fill(model, batch: size, facts: facts, seed: 1)
            let settings = flow.flow.training.optimizer
            let step = TrainingStep(model: model, optimizer: OptimizerFactory.optimizer(for: model.plan, settings: settings),
                                    clipNorm: settings.clipNorm.map(Float.init))
            let rate = Float(settings.learningRate)
            for _ in 0..<3 { step.run(batch: size, learningRate: rate) }
            var times: [Double] = [], shares: [Double] = [], averageShares: [Double] = [], peaks: [Double] = []
            let flops = model.plan.flops(batch: size)
            for _ in 0..<repeats {
                let peakNow = SgemmPeak.measure(repeats: 3, threads: threads).gflops
                var total = 0.0, fastest = Double.infinity
                for _ in 0..<steps {
                    let start = DispatchTime.now().uptimeNanoseconds
                    step.run(batch: size, learningRate: rate)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    total += seconds
                    fastest = min(fastest, seconds)
                }
                times.append(total / Double(steps))
                peaks.append(peakNow)
                // The peak is the best of its runs; the step is compared at its best too, so that
                // neither side counts what the rest of the machine took from it.
                shares.append(flops / fastest / 1e9 / peakNow)
                averageShares.append(flops / (total / Double(steps)) / 1e9 / peakNow)
            }
            let seconds = median(times)
            let gflops = flops / seconds / 1e9
            print("batch \(size): \(Int((Double(size) / seconds).rounded())) samples/s, \(format(gflops)) GFLOP/s, "
                  + "\(percent(median(shares))) of sgemm peak (\(format(peaks.min()!))–\(format(peaks.max()!)) GFLOP/s; "
                  + "\(percent(median(averageShares))) counting every step); plan buffers \(megabytes(model.plan.bufferBytes))")
            if profile { printProfile(step, batch: size, stepTime: seconds) }
        }
        if data { try benchData(flow) }
        print("peak resident memory \(megabytes(peakResidentBytes()))")
    }

    /// Times reading the flow's data, phase by phase.
    private func benchData(_ flow: ResolvedFlow) throws {
        var runs: [LoadTimings] = []
        var data: TrainingData?
        for _ in 0..<repeats {
            let loaded = try TrainingData.load(flow)
            data = loaded
            runs.append(loaded.timings)
        }
        let bytes = runs[0].bytes
        func phase(_ name: String, _ seconds: (LoadTimings) -> Double) -> String {
            "\(name) \(format(1000 * median(runs.map(seconds)))) ms"
        }
        let total = median(runs.map(\.total))
        print("data: \(megabytes(bytes)) read in \(format(1000 * total)) ms (\(String(format: "%.2f", total / (Double(bytes) / 104_857_600))) s per 100 MB): "
              + [phase("split", \.split), phase("statistics", \.statistics), phase("encode", \.encode)].joined(separator: ", "))
        if let data { benchEpochs(flow, data) }
    }

    /// Trains `dataEpochs` epochs on the real data and prints each epoch's split.
    private func benchEpochs(_ flow: ResolvedFlow, _ data: TrainingData) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var trainer = Trainer(flow: flow, data: data, run: RunDirectory(url: directory), epochs: dataEpochs,
                              seed: flow.flow.training.seed, flowText: "") { _, _ in }
        trainer.timed = { epoch, t in
            let other = t.total - t.steps - t.batches - t.metrics - t.validation - t.diagnostics - t.saving
            let parts = [("steps", t.steps), ("waiting for batches", t.batches), ("metrics", t.metrics),
                         ("validation", t.validation), ("diagnostics", t.diagnostics), ("saving", t.saving), ("other", other)]
            print("epoch \(epoch): \(format(1000 * t.total)) ms, "
                  + parts.map { "\($0.0) \(format(1000 * $0.1)) ms (\(percent($0.1 / t.total)))" }.joined(separator: ", "))
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try trainer.train()
        } catch {
            print("epochs not timed: \(error)")
        }
    }

    private func printProfile(_ step: TrainingStep, batch: Int, stepTime: Double) {
        let rows = step.model.plan.profile(batch: batch, steps: steps)
            .sorted { $0.forward + $0.backward > $1.forward + $1.backward }
        let opsTime = rows.reduce(0) { $0 + $1.forward + $1.backward } / Double(steps)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps { step.optimizer.step(learningRate: 0) }
        let optimizerTime = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(steps)
        print("  a \(format(1000 * stepTime)) ms step: ops \(format(1000 * opsTime)) ms, "
              + "optimiser \(format(1000 * optimizerTime)) ms")
        for row in rows.prefix(12) {
            print("  \(row.op): forward \(format(1e6 * row.forward / Double(steps))) µs, "
                  + "backward \(format(1e6 * row.backward / Double(steps))) µs")
        }
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    private func percent(_ share: Double) -> String { "\(Int((100 * share).rounded()))%" }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }

    private func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

    private func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // kilobytes on Linux
    }
}
