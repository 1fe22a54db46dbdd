import ArgumentParser
import Engine
import Foundation

/// `--threads`, shared by the commands that compute.
struct ThreadOptions: ParsableArguments {
    // Optional, so that help states the default in words, once, rather than this machine's count.
    @Option(help: "Threads (default: the machine's cores).")
    var threads: Int?

    /// The threads to use: the option's, or one per core.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        guard (1...EngineThreads.maximum).contains(count) else {
            throw ValidationError("--threads must be 1 to \(EngineThreads.maximum)")
        }
    }
}
