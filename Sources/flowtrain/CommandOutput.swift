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
}
