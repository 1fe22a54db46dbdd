import Foundation
import Testing

/// `run`, but a command still running after `seconds` is killed and the test fails, so that a
/// command that hangs (or trains on when it should refuse) cannot stop the suite.
func run(_ arguments: [String], deadline seconds: Double) throws -> CommandResult {
    let process = Process()
    process.executableURL = flowtrainBinary
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(10_000) }
    let overdue = process.isRunning
    if overdue { kill(process.processIdentifier, SIGKILL) }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(!overdue, "flowtrain \(arguments.joined(separator: " ")) was still running after \(seconds) s")
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}
