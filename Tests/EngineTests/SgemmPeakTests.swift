import Testing
@testable import Engine

@Test func sgemmPeakIsPositive() {
    let peak = SgemmPeak.measure(size: 64, repeats: 1, threads: 1)
    #expect(peak.gflops > 0 && peak.gflops.isFinite)
}
