import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes scalars and histograms to a TensorBoard event file, `events.out.tfevents.<unix seconds>.<hostname>`,
/// without TensorFlow or a protobuf library: each event is a hand-encoded `tensorflow.Event` in
/// a TFRecord frame (see `TensorBoardEncoding`).
///
/// Adding never fails: records are buffered in memory until `flush()`, which writes and syncs
/// them and is where failures are reported. Call it at each logging interval, and `close()` at
/// the end.
public final class TensorBoardEventWriter {
    /// The event file being written.
    public let file: URL
    /// -1 once closed.
    private var descriptor: Int32
    /// Encoded records not yet handed to the system.
    private var pending: [UInt8]

    /// Creates a new event file in `directory`, which must exist, and buffers the version record
    /// TensorBoard expects first. Refuses to overwrite a file of the same name.
    public init(directory: URL) throws(Problem) {
        let now = Date().timeIntervalSince1970
        file = directory.appendingPathComponent("events.out.tfevents.\(Int(now)).\(hostname())")
        descriptor = systemOpen(file.path)
        guard descriptor >= 0 else { throw Self.failure("create", file: file) }
        pending = TensorBoardEncoding.record(TensorBoardEncoding.versionEvent(wallTime: now))
    }

    deinit {
        guard descriptor >= 0 else { return }
        // Nobody can be told of a failure here; callers who need to know call `close()`. Writing
        // anyway keeps the scalars logged before, say, a training error ended the run.
        try? writePending()
        _ = systemClose(descriptor)
    }

    /// Buffers one event holding one scalar. `wallTime` is seconds since 1970.
    public func addScalar(tag: String, value: Float, step: Int, wallTime: Double) {
        addScalars([(tag: tag, value: value)], step: step, wallTime: wallTime)
    }

    /// Buffers one event holding several scalars of the same step, e.g. every task's loss.
    public func addScalars(_ scalars: [(tag: String, value: Float)], step: Int, wallTime: Double) {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        pending += TensorBoardEncoding.record(
            TensorBoardEncoding.scalarEvent(scalars, step: step, wallTime: wallTime))
    }

    /// Buffers one event holding several histograms of the same step (a layer's activations,
    /// weights and gradients, say).
    public func addHistograms(_ histograms: [(tag: String, histogram: Histogram)], step: Int, wallTime: Double) {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        pending += TensorBoardEncoding.record(
            TensorBoardEncoding.histogramEvent(histograms, step: step, wallTime: wallTime))
    }

    /// Writes again the scalars a CSV log kept (a resumed run's `metrics.csv` or
    /// `diagnostics.csv`): one event per epoch, the epoch read from `epochColumn`, each row's tag
    /// made by `tag` and its value read from `valueColumn`.
    public func replay(_ table: CSVTable, epochColumn: Int, valueColumn: Int, tag: (Int) -> String) {
        var epoch = 0
        var scalars: [(tag: String, value: Float)] = []
        for row in 0..<table.rowCount {
            let rowEpoch = Int(table.string(row: row, column: epochColumn)) ?? 0
            if rowEpoch != epoch, !scalars.isEmpty {
                addScalars(scalars, step: epoch, wallTime: Date().timeIntervalSince1970)
                scalars = []
            }
            epoch = rowEpoch
            scalars.append((tag(row), Float(table.number(row: row, column: valueColumn) ?? .nan)))
        }
        if !scalars.isEmpty { addScalars(scalars, step: epoch, wallTime: Date().timeIntervalSince1970) }
    }

    /// Writes the buffered records and syncs the file to disk.
    public func flush() throws(Problem) {
        precondition(descriptor >= 0, "TensorBoardEventWriter used after close()")
        try writePending()
        guard fsync(descriptor) == 0 else { throw Self.failure("sync", file: file) }
    }

    /// Flushes and closes the file. Closing again does nothing; adding after closing is a
    /// programming error.
    public func close() throws(Problem) {
        guard descriptor >= 0 else { return }
        defer { descriptor = -1 }
        do {
            try flush()
        } catch {
            _ = systemClose(descriptor)
            throw error
        }
        guard systemClose(descriptor) == 0 else { throw Self.failure("close", file: file) }
    }

    /// Hands `pending` to the system, retrying short writes and interrupted calls. On failure,
    /// what was written is dropped from `pending`, so a later flush does not repeat it.
    private func writePending() throws(Problem) {
        var written = 0
        defer { pending.removeFirst(written) }
        while written < pending.count {
            let count = pending.withUnsafeBytes { bytes in
                systemWrite(descriptor, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", file: file)
            }
            written += count
        }
    }

    /// The problem for the system call that just failed (`operation`: create, write, sync or
    /// close), with the system's reason; call before anything can change `errno`. The message
    /// names the file itself, since callers say what the file was for.
    private static func failure(_ operation: String, file: URL) -> Problem {
        let code = errno
        return Problem(message: "cannot \(operation) TensorBoard event file \(file.path): \(String(cString: strerror(code)))")
    }
}

// The system calls live outside the class because its `close()` would hide the C function.

private func systemOpen(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

/// The machine's name as TensorFlow puts it in event file names. `gethostname` rather than
/// `ProcessInfo.hostName`, which may ask DNS for a canonical name.
private func hostname() -> String {
    var name = [CChar](repeating: 0, count: 256)
    guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
