import ArgumentParser
import Engine
import FlowSpec
import Foundation

/// `flowtrain bench FLOW.yaml`: time training steps against the machine's sgemm peak.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training speed against this machine's matrix-product peak.",
        discussion: """
            Measures the single-precision matrix-product peak (cblas_sgemm) first, then times \
            whole training steps per batch size. Training steps are timed once the engine can \
            compile the flow; until then only the peak is measured.
            """)

    @OptionGroup var options: FlowOptions

    @Option(help: "Threads for the matrix products.")
    var threads: Int = 2

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let flow = try options.load()
        let peak = SgemmPeak.measure(threads: threads)
        print("flow \(flow.flow.name): \(flow.trunkParameters + flow.headParameters) parameters")
        let gflops = String(format: "%.1f", peak.gflops)
        print("sgemm peak: \(gflops) GFLOP/s (\(peak.size)³, \(peak.threads) thread\(peak.threads == 1 ? "" : "s"))")
    }
}
