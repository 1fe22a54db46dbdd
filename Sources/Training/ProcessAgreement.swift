import FileFormats
import Foundation
import ProcessGroups

/// How processes that read the data in parts agree that reading failed: after each pass every
/// process says whether it threw, and if any did, every one throws the same problem, so that
/// none goes on to a collective call the others will not make, and the job ends with the
/// problem one process reading all of the data would have reported. (Training's steps agree
/// on their divergences and stops with `StepAgreement`, numbers in the step's own allreduce.)
enum ProcessAgreement {
    /// What `work` returns on every process; when it threw on any, the problem of the first
    /// process (by rank) that threw, thrown on every one: the processes hold the parts of the
    /// data in rank order, so that is the problem a pass over the whole would have met first.
    static func first<Value>(_ processes: any ProcessGroup, _ work: () throws(Problem) -> Value) throws(Problem) -> Value {
        let outcome = Result<Value, Problem> { () throws(Problem) in try work() }
        guard processes.size > 1 else { return try outcome.get() }
        var mine: [UInt8] = []
        if case .failure(let problem) = outcome { mine = Array((try? JSONEncoder().encode(problem)) ?? Data("{}".utf8)) }
        for bytes in processes.allgather(bytes: mine) where !bytes.isEmpty {
            throw (try? JSONDecoder().decode(Problem.self, from: Data(bytes)))
                ?? Problem(message: "another process could not read the data")
        }
        return try outcome.get()
    }
}
