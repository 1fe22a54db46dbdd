import Foundation
import Testing
@testable import FileFormats

/// The durable replacement: the contents arrive, an old file is replaced, and neither success
/// nor failure leaves the temporary file behind.
struct DurableFileTests {
    @Test func writesTheContentsAndReplacesAnOldFileLeavingNoTemporaryFile() throws {
        try withScratchDirectory("durable") { directory in
            let path = directory + "/state.json"
            try DurableFile.write(Data("old, and longer than the new contents".utf8), to: path)
            try DurableFile.write(Data("new".utf8), to: path)
            #expect(FileManager.default.contents(atPath: path) == Data("new".utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["state.json"])
        }
    }

    @Test func contentsAppendedInPiecesArriveInOrder() throws {
        try withScratchDirectory("durable") { directory in
            let path = directory + "/pieces.bin"
            try DurableFile.write(to: path) { (output) throws(DurableFileError) in
                let bytes: [UInt8] = [1, 2], words: [UInt16] = [UInt16(0x0403).littleEndian]
                try bytes.withUnsafeBufferPointer { (bytes) throws(DurableFileError) in try output.append(bytes) }
                try words.withUnsafeBufferPointer { (words) throws(DurableFileError) in try output.append(words) }
            }
            #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3, 4]))
        }
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporaryFile() throws {
        try withScratchDirectory("durable") { directory in
            let path = directory + "/model.safetensors"
            try DurableFile.write(Data("old".utf8), to: path)
            let failure = DurableFileError(path: path, temporaryPath: "", step: .writeTemporaryFile, reason: "disk full")
            let error = #expect(throws: DurableFileError.self) {
                try DurableFile.write(to: path) { (output) throws(DurableFileError) in
                    try Array("partial".utf8).withUnsafeBufferPointer { (bytes) throws(DurableFileError) in
                        try output.append(bytes)
                    }
                    throw failure
                }
            }
            #expect(error == failure)
            #expect(FileManager.default.contents(atPath: path) == Data("old".utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
        }
    }

    @Test func aMissingDirectoryIsReportedAtItsStep() throws {
        try withScratchDirectory("durable") { directory in
            let path = directory + "/missing/metrics.csv"
            let error = #expect(throws: DurableFileError.self) { try DurableFile.write(Data(), to: path) }
            #expect(error?.step == .createTemporaryFile)
            #expect(error?.reason == "No such file or directory")
            #expect(error.map { DurableFile.isTemporaryFileName(URL(fileURLWithPath: $0.temporaryPath).lastPathComponent) } == true)
            #expect(error?.description.hasPrefix("\(path): cannot create the temporary file '\(directory)/missing/.metrics.csv.") == true)
        }
    }
}
