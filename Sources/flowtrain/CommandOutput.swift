import FlowSpec
import Foundation

/// Where commands write: results to standard output, problems to standard error.
enum CommandOutput {
    /// Every diagnostic, one `FILE:LINE:COL: message (hint)` line each.
    static func report(_ problems: DiagnosticList) {
        error(problems.description)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Reports a problem with what the user gave (a run directory, a data file) and exits 2.
    static func badInput(_ problem: some CustomStringConvertible) -> Never {
        error(problem.description)
        exit(ExitStatus.badInput)
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
