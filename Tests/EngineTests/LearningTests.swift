import Testing
@testable import Engine

/// Small networks learn small problems end to end: forward, backward, optimiser.
struct LearningTests {
    @Test func mlpLearnsXOR() {
        let b = PlanBuilder(maxBatch: 4)
        let x = b.input([2]), y = b.input([1]), mask = b.input([1])
        let h = b.tanh(b.dense(x, units: 8, name: "hidden"))
        let logits = b.dense(h, units: 1, name: "out")
        _ = b.binaryCrossEntropy(logits: logits, targets: y, mask: mask)
        let plan = b.build(seed: 3)
        let inputs: [Float] = [0, 0, 0, 1, 1, 0, 1, 1], labels: [Float] = [0, 1, 1, 0]
        for i in 0..<8 { x.data[i] = inputs[i] }
        for i in 0..<4 { (y.data[i], mask.data[i]) = (labels[i], 1) }
        let adam = Adam(plan: plan)
        for _ in 0..<500 {
            plan.forward(batch: 4, mode: .training)
            plan.backward(batch: 4)
            adam.step(learningRate: 0.05)
        }
        plan.forward(batch: 4, mode: .evaluation)
        let predictions = (0..<4).map { logits.data[$0] > 0 ? Float(1) : 0 }
        #expect(predictions == labels)
        #expect(plan.totalLoss < 0.05)
    }

    /// 8×8 gray images: a bright 3×3 square in the left half (class 0) or the right half (class 1),
    /// at varying rows. A conv net must find it wherever it is.
    @Test func convNetLearnsWhereTheSquareIs() {
        let count = 32
        let b = PlanBuilder(maxBatch: count)
        let image = b.input([8, 8, 1]), label = b.input([1]), mask = b.input([1])
        var h = b.relu(b.conv2d(image, filters: 4, kernel: 3, padding: .same, initialization: .he, name: "c1"))
        h = b.maxPool(h, size: 2, stride: 2)
        h = b.relu(b.conv2d(h, filters: 8, kernel: 3, padding: .same, initialization: .he, name: "c2"))
        let logits = b.dense(b.flatten(h), units: 2, name: "out")
        _ = b.softmaxCrossEntropy(logits: logits, targets: label, mask: mask)
        let plan = b.build(seed: 5)
        var random = Random(seed: 9)
        for n in 0..<count {
            let right = n % 2
            let top = Int(random.uniform() * 6), left = right * 4 + Int(random.uniform() * 2)
            for i in 0..<64 { image.data[n * 64 + i] = random.uniform() * 0.2 }
            for dy in 0..<3 { for dx in 0..<3 { image.data[n * 64 + (top + dy) * 8 + left + dx] = 1 } }
            (label.data[n], mask.data[n]) = (Float(right), 1)
        }
        let adam = Adam(plan: plan)
        for _ in 0..<150 {
            plan.forward(batch: count, mode: .training)
            plan.backward(batch: count)
            adam.step(learningRate: 0.01)
        }
        plan.forward(batch: count, mode: .evaluation)
        let correct = (0..<count).filter { n in
            (logits.data[n * 2 + 1] > logits.data[n * 2] ? 1 : 0) == Int(label.data[n])
        }.count
        #expect(correct == count)
    }

    @Test func sameSeedSameLossesBitForBit() {
        func losses() -> [Float] {
            let b = PlanBuilder(maxBatch: 8)
            let x = b.input([4]), y = b.input([1]), mask = b.input([1])
            let h = b.dropout(b.relu(b.dense(x, units: 16, initialization: .he, name: "h")), rate: 0.2)
            _ = b.regressionLoss(logits: b.dense(h, units: 1, name: "o"), targets: y, mask: mask, distance: .squared)
            let plan = b.build(seed: 42)
            for i in 0..<32 { x.data[i] = Float(i % 7) / 7 }
            for i in 0..<8 { (y.data[i], mask.data[i]) = (Float(i) / 8, 1) }
            let adam = Adam(plan: plan)
            return (0..<20).map { _ in
                plan.forward(batch: 8, mode: .training)
                plan.backward(batch: 8)
                adam.step(learningRate: 0.01)
                return plan.totalLoss
            }
        }
        let first = losses(), second = losses()
        #expect(first == second)
        #expect(first.last! < first.first!)
    }
}
