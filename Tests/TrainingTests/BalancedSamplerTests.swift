import Engine
import Testing
@testable import Training

struct BalancedSamplerTests {
    @Test func rarePatternsAreDrawnAsOftenAsCommonOnes() {
        // 90 rows train task 0 only; 10 rows train both tasks.
        let counts: [[Bool]] = [(0..<100).map { _ in true }, (0..<100).map { $0 >= 90 }]
        let split = EncodedSplit(name: "train", rows: 100, file: "train.csv", sourceRows: Array(0..<100), inputs: [:], targets: [[], []], masks: [[], []],
                                 counts: counts, present: counts)
        var random = Random(seed: 1)
        let rows = BalancedSampler.draw(split, count: 10_000, random: &random)
        let rare = rows.filter { $0 >= 90 }.count
        #expect(rare > 4_700 && rare < 5_300)  // half of the draws, within a few standard deviations
        #expect(Set(rows.filter { $0 >= 90 }).count == 10)  // every rare row is used
        var again = Random(seed: 1)
        #expect(BalancedSampler.draw(split, count: 10_000, random: &again) == rows)
    }
}
