import Foundation
import ProcessGroups

/// Processes as threads of the test process: what the processes of a data-parallel training
/// compute together, tested without mpirun. Every collective call waits for every thread of the
/// group, as MPI's do, and sums in rank order.
final class ThreadedProcessGroup: ProcessGroup, @unchecked Sendable {
    let rank: Int
    let size: Int
    private let meeting: Meeting

    private init(rank: Int, meeting: Meeting) {
        (self.rank, size, self.meeting) = (rank, meeting.size, meeting)
    }

    /// Runs `body` on `size` threads at once, each as one process of a group; their results
    /// (or what they threw) by rank.
    static func run<Value>(_ size: Int, _ body: @escaping @Sendable (any ProcessGroup) throws -> Value) -> [Result<Value, any Error>] {
        let meeting = Meeting(size: size)
        let results = Results<Value>(size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread {
                results.store(rank, Result { try body(ThreadedProcessGroup(rank: rank, meeting: meeting)) })
                done.leave()
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        return results.all
    }

    func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) { sum(values, count) }
    func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) { sum(values, count) }
    func allreduceSum(_ values: UnsafeMutablePointer<Int>, count: Int) { sum(values, count) }

    private func sum<Number: AdditiveArithmetic>(_ values: UnsafeMutablePointer<Number>, _ count: Int) {
        let parts = meeting.exchange(rank, Array(UnsafeBufferPointer(start: values, count: count)))
        for i in 0..<count { values[i] = parts.reduce(.zero) { $0 + ($1 as! [Number])[i] } }
    }

    func allreduceMax(_ values: UnsafeMutablePointer<Int>, count: Int) {
        let parts = meeting.exchange(rank, Array(UnsafeBufferPointer(start: values, count: count)))
        for i in 0..<count { values[i] = parts.reduce(Int.min) { max($0, ($1 as! [Int])[i]) } }
    }

    func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int, from root: Int) { copy(values, count, root) }
    func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int, from root: Int) { copy(values, count, root) }
    func broadcast(_ values: UnsafeMutablePointer<Int>, count: Int, from root: Int) { copy(values, count, root) }

    private func copy<Number>(_ values: UnsafeMutablePointer<Number>, _ count: Int, _ root: Int) {
        let parts = meeting.exchange(rank, Array(UnsafeBufferPointer(start: values, count: count)))
        (parts[root] as! [Number]).withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: count) }
    }

    func allgather(_ values: [Float]) -> [Float] { meeting.exchange(rank, values).flatMap { $0 as! [Float] } }
    func allgather(bytes: [UInt8]) -> [[UInt8]] { meeting.exchange(rank, bytes).map { $0 as! [UInt8] } }
    func abort(status: Int32) -> Never { fatalError("a test's process group aborted with status \(status)") }

    /// Where the threads meet: each call of `exchange` waits until every thread has made its
    /// own, then returns what each gave, by rank.
    private final class Meeting: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var given: [Any], arrived = 0, round = 0
        private var gathered: [Any] = []

        init(size: Int) {
            self.size = size
            given = Array(repeating: (), count: size)
        }

        func exchange(_ rank: Int, _ value: Any) -> [Any] {
            condition.lock()
            defer { condition.unlock() }
            given[rank] = value
            arrived += 1
            let mine = round
            if arrived == size {
                (gathered, arrived, round) = (given, 0, round + 1)
                condition.broadcast()
            } else {
                while round == mine { condition.wait() }
            }
            return gathered
        }
    }

    private final class Results<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<Value, any Error>?]

        init(_ size: Int) { results = Array(repeating: nil, count: size) }

        func store(_ rank: Int, _ result: Result<Value, any Error>) {
            lock.lock()
            results[rank] = result
            lock.unlock()
        }

        var all: [Result<Value, any Error>] { results.map { $0! } }
    }
}
