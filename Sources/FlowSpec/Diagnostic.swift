/// One problem found in a user's input: where it is, what is wrong, and a hint that helps fix it.
///
/// Errors are values: every layer collects them and one place, `render`, turns them into the
/// `FILE:LINE:COL: message (did you mean 'x'?)` lines that go to standard error.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    /// Text appended in parentheses, typically `did you mean 'door_open'?`.
    public var hint: String?

    public init(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    /// The single line a user reads.
    public var description: String {
        var line = location.map { "\($0): " } ?? ""
        line += message
        if let hint { line += " (\(hint))" }
        return line
    }
}

/// Several diagnostics reported together, compiler style: each independent mistake once.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while a pass goes on, so that one bad key does not hide the next.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []
    /// Inputs, branches and tasks that were declared but could not be decoded. They have been
    /// reported once; references to them are not reported again as unknown names.
    var brokenNames: Set<String> = []

    var isEmpty: Bool { diagnostics.isEmpty }

    func error(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        let diagnostic = Diagnostic(message, at: location, hint: hint)
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    /// Diagnostics in file order, the order a reader fixes them in.
    var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            switch (la, lb) {
            case let (x?, y?) where (x.line, x.column) != (y.line, y.column):
                return (x.line, x.column) < (y.line, y.column)
            default:
                return a.offset < b.offset
            }
        }.map(\.element)
    }
}
