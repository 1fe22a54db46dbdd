import FileFormats
import Foundation

/// Results of jobs run at once on the cores there are, each job storing its own slot. The first
/// failure in job order is what `results()` throws, as a serial loop would have.
final class ParallelJobs<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result?]
    private var failures: [Problem?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        failures = Array(repeating: nil, count: count)
    }

    func run(_ job: Int, _ work: () throws(Problem) -> Result) {
        do throws(Problem) {
            let result = try work()
            lock.lock()
            slots[job] = result
            lock.unlock()
        } catch {
            lock.lock()
            failures[job] = error
            lock.unlock()
        }
    }

    func results() throws(Problem) -> [Result] {
        lock.lock()
        defer { lock.unlock() }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        return slots.map { $0! }
    }
}

/// Problems found by parallel workers (`DataProblems` puts them in file order).
final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [Problem] = []

    func add(_ error: Problem) {
        lock.lock()
        failures.append(error)
        lock.unlock()
    }

    var all: [Problem] { failures }
}
