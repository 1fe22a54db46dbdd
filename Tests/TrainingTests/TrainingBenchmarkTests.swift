import FlowSpec
import Testing
import Training

/// `bench`'s figures for a tiny flow timed once for one step: every field filled and consistent
/// with the others (the numbers themselves are the machine's).
struct TrainingBenchmarkTests {
    static func flow() throws -> ResolvedFlow {
        try FlowLoader.load(bytes: Array("""
            name: tiny
            data: {train: t.csv}
            inputs:
              x: {type: numeric, columns: [a, b, c]}
            trunk:
              body: {from: x, layers: [dense: 8, relu]}
            flow:
              open: {type: binary}
              kind: {type: classification, classes: [p, q, r], when: open}
            """.utf8), file: "tiny.yaml")
    }

    @Test func oneStepOnceFillsEveryFigure() throws {
        let bench = TrainingBenchmark(flow: try Self.flow(), threads: 1, steps: 1, repeats: 1)
        try bench.checkMemory(batch: 4)
        let figures = bench.measureSteps(batch: 4, profile: true)
        #expect(figures.batch == 4)
        #expect(figures.seconds > 0 && figures.flops > 0 && figures.planBytes > 0)
        #expect(figures.samplesPerSecond == 4 / figures.seconds)
        #expect(figures.gflops == figures.flops / figures.seconds / 1e9)
        // One repetition: one peak, and the fastest of one step is the mean of it.
        #expect(figures.peaks.lowerBound == figures.peaks.upperBound && figures.peaks.lowerBound > 0)
        #expect(figures.peakShare > 0 && figures.peakShare == figures.meanPeakShare)
        let profile = try #require(figures.profile)
        #expect(!profile.ops.isEmpty && profile.optimizerSeconds > 0)
        let times = profile.ops.map { $0.forward + $0.backward }
        #expect(times == times.sorted(by: >), "slowest first")
        // Per op, the operations `flops` counts, and its speed against the one repetition's peak.
        #expect(profile.peak == figures.peaks.lowerBound)
        #expect(profile.ops.reduce(0) { $0 + $1.flops } == figures.flops, "the ops' operations add up to the step's")
        for (index, op) in profile.ops.enumerated() {
            guard let speed = profile.speed(of: index) else {
                #expect(op.flops == 0 || op.forward + op.backward == 0, "\(op.op)")
                continue
            }
            #expect(speed.gflops == op.flops / (op.forward + op.backward) / 1e9)
            #expect(speed.peakShare == speed.gflops / profile.peak)
        }
        #expect(profile.ops.contains { $0.flops > 0 }, "the dense layers' products are counted")
        #expect(bench.measureSteps(batch: 2).profile == nil)
    }
}
