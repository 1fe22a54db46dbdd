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
}
