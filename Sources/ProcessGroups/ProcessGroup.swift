import Foundation

/// The processes of one data-parallel training, each with a rank in 0..<size, and the
/// collective operations they take part in together: every process calls each of them, in the
/// same order, with buffers of the same length (`allgather` excepted).
///
/// A module of its own, above the C bridge to Open MPI and below Training, which alone uses
/// it: the engine stays a one-process library that knows nothing of other processes, and the
/// one place that talks to MPI is `MPIProcessGroup`.
public protocol ProcessGroup: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// Sums `count` floats element by element over every process, in place.
    func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int)
    /// Sums `count` doubles element by element over every process, in place.
    func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int)
    /// Sums `count` integers element by element over every process, in place.
    func allreduceSum(_ values: UnsafeMutablePointer<Int>, count: Int)
    /// The largest of every process's integers, element by element, in place.
    func allreduceMax(_ values: UnsafeMutablePointer<Int>, count: Int)
    /// Replaces `values` by process `root`'s (every process passes as many floats).
    func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int, from root: Int)
    /// Replaces `values` by process `root`'s (every process passes as many doubles).
    func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int, from root: Int)
    /// Replaces `values` by process `root`'s (every process passes as many integers).
    func broadcast(_ values: UnsafeMutablePointer<Int>, count: Int, from root: Int)
    /// Every process's `values`, each may have its own length, one after the other in rank order.
    func allgather(_ values: [Float]) -> [Float]
    /// Every process's `bytes`, each may have its own length, by rank: how processes exchange
    /// what is not a number (vocabularies, problems found in their data). Under 2 GiB in all.
    func allgather(bytes: [UInt8]) -> [[UInt8]]
    /// Ends this process with `status`, and every other process of the group with it: they
    /// would otherwise wait for this one in their next collective call.
    func abort(status: Int32) -> Never
}

extension ProcessGroup {
    /// Process 0: the one that writes files and prints.
    public var isFirst: Bool { rank == 0 }

    /// Sums `values` element by element over every process.
    public func allreduceSum(_ values: inout [Double]) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { allreduceSum(base, count: count) }
        }
    }

    /// Sums `values` element by element over every process.
    public func allreduceSum(_ values: inout [Int]) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { allreduceSum(base, count: count) }
        }
    }

    /// Replaces `values` by process `root`'s (every process passes as many).
    public func broadcast(_ values: inout [Int], from root: Int) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { broadcast(base, count: count, from: root) }
        }
    }

    /// Replaces `values` by process `root`'s (every process passes as many).
    public func broadcast(_ values: inout [Double], from root: Int) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { broadcast(base, count: count, from: root) }
        }
    }
}

/// How this process was started: by `mpirun` (Open MPI's environment variables are set), then
/// it joins the job's `MPIProcessGroup`; otherwise it is a `SingleProcess`, and MPI is never
/// initialised (nor needs a runtime).
public enum ProcessLaunch {
    /// True when Open MPI's launcher started this process.
    public static var isUnderMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// The group this process belongs to; under `mpirun`, the first call initialises MPI.
    public static func group() -> any ProcessGroup {
        isUnderMPI ? MPIProcessGroup.world : SingleProcess()
    }
}
