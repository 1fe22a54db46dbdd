import Foundation
import Testing

/// A data file that is not a regular file (a named pipe, a directory) is refused with its
/// location before it is opened: opening a named pipe without a writer would block for ever.
struct DataFileKindTests {
    static let flow = """
        name: pipe
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [f1]}
        flow:
          open: {type: binary}
        """

    @Test func aNamedPipeAsTheDataFileIsRefusedAtOnce() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        let pipe = directory.appendingPathComponent("train.csv").path
        #expect(mkfifo(pipe, 0o644) == 0)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path,
                              "--run-dir", directory.appendingPathComponent("run").path], deadline: 60)
        #expect(result.status == 2)
        #expect(result.stderr == "\(pipe): is a named pipe, not a regular file; data is read whole from a file, "
                + "so write it to one first\n")
    }

    @Test func aDirectoryAsTheDataFileIsRefused() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        let train = directory.appendingPathComponent("train.csv")
        try FileManager.default.createDirectory(at: train, withIntermediateDirectories: false)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path,
                              "--run-dir", directory.appendingPathComponent("run").path])
        #expect(result.status == 2)
        #expect(result.stderr == "\(train.path): is a directory, not a regular file; data is read whole from a file, "
                + "so write it to one first\n")
    }
}
