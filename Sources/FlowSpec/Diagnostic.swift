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
    /// Problems reported in full; past this many, the rest are only counted.
    static let limit = 100

    private(set) var diagnostics: [Diagnostic] = []
    private var seen: Set<Diagnostic> = []
    /// Inputs and branches that were declared but are broken (failed to decode, or hold a
    /// layer that did). They have been reported once: references to them are not reported as
    /// unknown, and nothing is inferred from them.
    var brokenSources: Set<String> = []
    /// Full paths of tasks and nested flows that were declared but could not be decoded, or
    /// whose head holds a layer that could not.
    var brokenTasks: Set<String> = []
    /// Image inputs whose `augment:` had a problem: which tasks it must list is not judged.
    var brokenAugmentations: Set<String> = []
    /// `trunk:` was there but unreadable: defaults that depend on it are not judged.
    var trunkIsBroken = false
    /// Inputs declared, decodable or not.
    var declaredInputs = 0

    var isEmpty: Bool { diagnostics.isEmpty }

    /// Every problem reported so far, shown or not: compare before and after decoding a part
    /// to learn whether that part had one.
    var count: Int { diagnostics.count }

    func error(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        report(Diagnostic(message, at: location, hint: hint))
    }

    func report(_ diagnostic: Diagnostic) {
        guard seen.insert(diagnostic).inserted else { return }
        diagnostics.append(diagnostic)
    }

    /// The first `limit` diagnostics in file order, the order a reader fixes them in, and a
    /// count of the rest.
    var sorted: [Diagnostic] {
        let all = diagnostics.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            switch (la, lb) {
            case let (x?, y?) where (x.line, x.column) != (y.line, y.column):
                return (x.line, x.column) < (y.line, y.column)
            default:
                return a.offset < b.offset
            }
        }.map(\.element)
        let rest = all.count - Self.limit
        guard rest > 0 else { return all }
        return Array(all.prefix(Self.limit)) + [Diagnostic("… and \(rest) more problem\(rest == 1 ? "" : "s") not shown", at: nil)]
    }
}
