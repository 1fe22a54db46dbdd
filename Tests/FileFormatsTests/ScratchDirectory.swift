import Foundation

/// Runs `body` with a fresh directory (`flowtrain-<purpose>-<UUID>`), removed afterwards: tests
/// run in parallel, so each has files of its own.
func withScratchDirectory(_ purpose: String, _ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("flowtrain-\(purpose)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(directory)
}
