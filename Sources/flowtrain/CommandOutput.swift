import ArgumentParser
import Foundation

/// Where commands write: results to standard output, problems to standard error.
enum CommandOutput {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The one place a failure is written: writes what `failure` says to standard error and
    /// returns what argument-parser ends the process with — the exit code (a `CommandFailure`'s
    /// own: 2 for bad input, a problem rendered by `Problem`, 1 for a run that failed; 2 for a
    /// bad argument; 1 for anything else), or, for `--help` and `--version`, the request itself,
    /// which it prints to standard output with 0. `from` starts the message (which process of
    /// several wrote it).
    static func end(_ failure: any Error, from: String = "") -> any Error {
        switch failure {
        case let failure as CommandFailure:
            error(from + failure.message)
            return failure.status
        default:
            let code = Flowtrain.exitCode(for: failure)
            guard code != .success else { return failure }
            error(from + Flowtrain.fullMessage(for: failure))
            return code == .validationFailure ? ExitCode.badInput : ExitCode.runFailed
        }
    }

    /// Writes `text` to standard output with its columns aligned (two spaces between them).
    static func table(_ rows: [[String]]) {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        for row in rows {
            print(zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }

    /// Training's progress on standard error: epoch lines as they come, and on a terminal the
    /// live line within an epoch, redrawn in place.
    static func progress(_ line: String, live: Bool) {
        if live {
            if isTerminal { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)) }
        } else {
            FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
        }
    }

    private static let isTerminal = isatty(FileHandle.standardError.fileDescriptor) == 1
}
