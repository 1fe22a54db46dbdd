import FileFormats

/// Collects the problems of a flow file while a pass goes on, so that one bad key does not hide
/// the next; reported once each, compiler style.
final class DiagnosticSink {
    /// Problems reported in full; past this many, the rest are only counted.
    static let limit = 100

    private(set) var diagnostics: [Problem] = []
    private var seen: Set<Problem> = []
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
        report(Problem(message, at: location, hint: hint))
    }

    func report(_ diagnostic: Problem) {
        guard seen.insert(diagnostic).inserted else { return }
        diagnostics.append(diagnostic)
    }

    /// Every problem reported, as one to throw: the first in file order, the order a reader
    /// fixes them in, with the next `limit` - 1 as its further problems and then a line
    /// counting the rest. A pass that fails has reported why: the sink is not empty.
    var problem: Problem {
        precondition(!diagnostics.isEmpty, "a pass failed without reporting a problem")
        let all = diagnostics.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            switch (la, lb) {
            case let (x?, y?) where (x.line ?? 0, x.column ?? 0) != (y.line ?? 0, y.column ?? 0):
                return (x.line ?? 0, x.column ?? 0) < (y.line ?? 0, y.column ?? 0)
            default:
                return a.offset < b.offset
            }
        }.map(\.element)
        var first = all[0]
        first.further = Array(all.prefix(Self.limit).dropFirst())
        let rest = all.count - Self.limit
        // Worded unlike a data pass's count (`Problem.unreported`), as flow files always were.
        if rest > 0 { first.further.append(Problem(message: "… and \(rest) more problem\(rest == 1 ? "" : "s") not shown")) }
        return first
    }
}
