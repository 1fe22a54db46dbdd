import Engine
import FileFormats
import FlowSpec
import Foundation

/// What `bench` measures of a flow, as figures for it to print: whole training steps (forward,
/// backward, optimiser) on random data of the flow's shapes, against this machine's sgemm peak;
/// and with `--data`, reading the flow's data and training epochs on it
/// (`TrainingBenchmark+Data.swift`). Sizes the data would decide are taken as 8
/// (`DataFacts.synthetic`).
public struct TrainingBenchmark {
    public let flow: ResolvedFlow
    public let threads: Int
    /// Timed steps per repetition.
    public let steps: Int
    /// Repetitions; figures are their median.
    public let repeats: Int
    let facts: DataFacts

    public init(flow: ResolvedFlow, threads: Int, steps: Int, repeats: Int) {
        precondition(steps >= 1 && repeats >= 1, "a benchmark times at least one step once")
        (self.flow, self.threads, self.steps, self.repeats) = (flow, threads, steps, repeats)
        facts = DataFacts.synthetic(for: flow)
    }

    /// The steps of one batch size.
    public struct StepFigures: Sendable {
        public var batch: Int
        /// The median over the repetitions of a step's mean time.
        public var seconds: Double
        /// Floating-point operations of one step, counted from the plan.
        public var flops: Double
        /// The median share of the sgemm peak: each repetition's fastest step against the peak
        /// measured right before it, so that neither side counts what the rest of a shared
        /// machine took.
        public var peakShare: Double
        /// The same, counting every step (their mean) instead of the fastest.
        public var meanPeakShare: Double
        /// The lowest and highest of the repetitions' peaks, in GFLOP/s.
        public var peaks: ClosedRange<Double>
        public var planBytes: Int
        /// With `profile`: where a step's time goes.
        public var profile: StepProfile?

        public var samplesPerSecond: Double { Double(batch) / seconds }
        public var gflops: Double { flops / seconds / 1e9 }
    }

    /// Seconds per step in each op, slowest first, with the op's floating-point operations per
    /// step (forward and backward; 0 for ops that `flops` does not count), and in the optimiser.
    public struct StepProfile: Sendable {
        public var ops: [(op: String, forward: Double, backward: Double, flops: Double)]
        public var optimizerSeconds: Double
        /// The sgemm peak the ops' shares are of: the median of the repetitions' peaks, GFLOP/s.
        public var peak: Double
        public var opsSeconds: Double { ops.reduce(0) { $0 + $1.forward + $1.backward } }

        /// An op's GFLOP/s over its forward and backward, and that as a share of `peak`; nil
        /// for an op whose operations are not counted.
        public func speed(of op: Int) -> (gflops: Double, peakShare: Double)? {
            let (_, forward, backward, flops) = ops[op]
            guard flops > 0, forward + backward > 0 else { return nil }
            let gflops = flops / (forward + backward) / 1e9
            return (gflops, gflops / peak)
        }
    }

    /// The peak the figures are compared with: the best of 5 products.
    public func machinePeak() -> SgemmPeak { SgemmPeak.measure(threads: threads) }

    /// Bad input when the model at `batch` would not fit in this machine's memory.
    public func checkMemory(batch: Int) throws(Problem) {
        try ModelMemory.check(flow, facts: facts, batch: batch)
    }

    /// Compiles the flow for `batch`, warms it up with 3 steps, then times `repeats` × `steps` steps.
    public func measureSteps(batch: Int, profile: Bool = false) -> StepFigures {
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: batch, seed: UInt64(flow.flow.training.seed))
        SyntheticBatch.fill(model, batch: batch, facts: facts, seed: 1)
        let settings = flow.flow.training.optimizer
        let step = TrainingStep(model: model, optimizer: OptimizerFactory.optimizer(for: model.plan, settings: settings),
                                clipNorm: settings.clipNorm.map(Float.init))
        let rate = Float(settings.learningRate)
        for _ in 0..<3 { step.run(batch: batch, learningRate: rate) }
        var times: [Double] = [], shares: [Double] = [], meanShares: [Double] = [], peaks: [Double] = []
        let flops = model.plan.flops(batch: batch)
        for _ in 0..<repeats {
            let peak = SgemmPeak.measure(repeats: 3, threads: threads).gflops
            var total = 0.0, fastest = Double.infinity
            for _ in 0..<steps {
                let seconds = Self.seconds { step.run(batch: batch, learningRate: rate) }
                total += seconds
                fastest = min(fastest, seconds)
            }
            times.append(total / Double(steps))
            peaks.append(peak)
            shares.append(flops / fastest / 1e9 / peak)
            meanShares.append(flops / (total / Double(steps)) / 1e9 / peak)
        }
        return StepFigures(batch: batch, seconds: Self.median(times), flops: flops, peakShare: Self.median(shares),
                           meanPeakShare: Self.median(meanShares), peaks: (peaks.min() ?? 0)...(peaks.max() ?? 0),
                           planBytes: model.plan.bufferBytes,
                           profile: profile ? self.profile(step, batch: batch, peak: Self.median(peaks)) : nil)
    }

    private func profile(_ step: TrainingStep, batch: Int, peak: Double) -> StepProfile {
        let ops = step.model.plan.profile(batch: batch, steps: steps)
            .map { (op: $0.op, forward: $0.forward / Double(steps), backward: $0.backward / Double(steps), flops: $0.flops) }
            .sorted { $0.forward + $0.backward > $1.forward + $1.backward }
        let optimizer = Self.seconds { for _ in 0..<steps { step.optimizer.step(learningRate: 0) } }
        return StepProfile(ops: ops, optimizerSeconds: optimizer / Double(steps), peak: peak)
    }

    /// The process's peak resident memory so far, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024  // kilobytes on Linux
    }

    static func seconds(_ work: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        work()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
