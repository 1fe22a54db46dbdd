import CMPI
import Foundation

/// The processes `mpirun` started, as `MPI_COMM_WORLD`. MPI is initialised once, when `world`
/// is first used, and finalised when the process exits.
///
/// A failed MPI call is not checked: Open MPI's default error handler (`MPI_ERRORS_ARE_FATAL`)
/// ends the whole job with the reason on standard error before the call returns.
///
/// Sendable unchecked: its properties never change after `init`, and MPI is initialised for
/// calls from one thread at a time, which the training loop's are.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let communicator: MPI_Comm

    /// This job's processes; initialises MPI on first use.
    public static let world = MPIProcessGroup()

    private init() {
        MPI_Init(nil, nil)
        // Finalised at exit, after everything the process printed, so that mpirun does not
        // report a process that ended without it.
        atexit { _ = MPI_Finalize() }
        communicator = flowtrain_mpi_comm_world()
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(communicator, &rank)
        MPI_Comm_size(communicator, &size)
        (self.rank, self.size) = (Int(rank), Int(size))
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        inPieces(count) { MPI_Allreduce(flowtrain_mpi_in_place(), values + $0, $1, flowtrain_mpi_float(), flowtrain_mpi_sum(), communicator) }
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        inPieces(count) { MPI_Allreduce(flowtrain_mpi_in_place(), values + $0, $1, flowtrain_mpi_double(), flowtrain_mpi_sum(), communicator) }
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Int>, count: Int) {
        // Int is 64 bits on every platform flowtrain builds for.
        inPieces(count) { MPI_Allreduce(flowtrain_mpi_in_place(), values + $0, $1, flowtrain_mpi_int64(), flowtrain_mpi_sum(), communicator) }
    }

    public func allreduceMax(_ values: UnsafeMutablePointer<Int>, count: Int) {
        inPieces(count) { MPI_Allreduce(flowtrain_mpi_in_place(), values + $0, $1, flowtrain_mpi_int64(), flowtrain_mpi_max(), communicator) }
    }

    public func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int, from root: Int) {
        inPieces(count) { MPI_Bcast(values + $0, $1, flowtrain_mpi_float(), Int32(root), communicator) }
    }

    public func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int, from root: Int) {
        inPieces(count) { MPI_Bcast(values + $0, $1, flowtrain_mpi_double(), Int32(root), communicator) }
    }

    public func broadcast(_ values: UnsafeMutablePointer<Int>, count: Int, from root: Int) {
        inPieces(count) { MPI_Bcast(values + $0, $1, flowtrain_mpi_int64(), Int32(root), communicator) }
    }

    /// MPI's counts are 32-bit: a longer buffer (a gradient block past 2³¹ floats) goes in pieces.
    private func inPieces(_ count: Int, _ call: (_ offset: Int, _ count: Int32) -> Void) {
        var offset = 0
        while offset < count {
            let piece = min(count - offset, Int(Int32.max))
            call(offset, Int32(piece))
            offset += piece
        }
    }

    public func allgather(_ values: [Float]) -> [Float] {
        var counts = [Int](repeating: 0, count: size)
        counts[rank] = values.count
        allreduceSum(&counts)
        var lengths = counts.map { Int32($0) }, offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + lengths[r - 1] }
        var gathered = [Float](repeating: 0, count: counts.reduce(0, +))
        var sent = values
        MPI_Allgatherv(&sent, Int32(values.count), flowtrain_mpi_float(), &gathered, &lengths, &offsets,
                       flowtrain_mpi_float(), communicator)
        return gathered
    }

    public func allgather(bytes: [UInt8]) -> [[UInt8]] {
        let counts = allgather(bytes.count)
        var lengths = counts.map { Int32($0) }, offsets = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + lengths[r - 1] }
        var gathered = [UInt8](repeating: 0, count: counts.reduce(0, +))
        var sent = bytes
        MPI_Allgatherv(&sent, Int32(bytes.count), flowtrain_mpi_byte(), &gathered, &lengths, &offsets,
                       flowtrain_mpi_byte(), communicator)
        return (0..<size).map { r in Array(gathered[Int(offsets[r])..<(Int(offsets[r]) + counts[r])]) }
    }

    public func abort(status: Int32) -> Never {
        MPI_Abort(communicator, status)
        exit(status)  // MPI_Abort does not return; this says so to the compiler
    }
}
