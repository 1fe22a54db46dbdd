import Foundation
@testable import Engine

/// The parts of a batch computed on threads of their own, in step, as the processes of a
/// data-parallel training compute them: `sum` waits until every part has given its values and
/// hands each the same sums (added in part order), as an allreduce does.
final class ThreadedParts: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var given: [[Double]]
    private var arrived = 0
    private var round = 0
    private var sums: [Double] = []
    /// How many sums every part has taken part in.
    private(set) var rounds = 0

    init(count: Int) {
        self.count = count
        given = Array(repeating: [], count: count)
    }

    /// Part `index` as the plans see it.
    func part(_ index: Int) -> any BatchParts { Part(parts: self, index: index) }

    fileprivate func sum(_ values: [Double], from index: Int) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let mine = round
        given[index] = values
        arrived += 1
        if arrived == count {
            sums = values.indices.map { i in given.reduce(0) { $0 + $1[i] } }
            (arrived, round, rounds) = (0, round + 1, rounds + 1)
            condition.broadcast()
        } else {
            while round == mine { condition.wait() }
        }
        return sums
    }

    /// Runs `body(index)` for every part, each on a thread of its own, and waits for them all.
    func run(_ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                body(index)
                group.leave()
            }.start()
        }
        group.wait()
    }

    private final class Part: BatchParts {
        let parts: ThreadedParts
        let index: Int
        init(parts: ThreadedParts, index: Int) { (self.parts, self.index) = (parts, index) }
        var addsBatchTerms: Bool { index == 0 }
        func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
            let sums = parts.sum((0..<count).map { Double(values[$0]) }, from: index)
            for i in 0..<count { values[i] = Float(sums[i]) }
        }
        func sum(_ values: UnsafeMutablePointer<Double>, count: Int) {
            let sums = parts.sum(Array(UnsafeBufferPointer(start: values, count: count)), from: index)
            values.update(from: sums, count: count)
        }
    }
}

/// A value handed to another thread that the test alone touches in the meantime.
struct Handed<Value>: @unchecked Sendable {
    let value: Value
}
