import FileFormats
import FlowSpec
import Foundation

/// The label columns `--targets` names: each pattern is a column's name, a glob (`*`, `?`,
/// `[…]`) matched against the header, or a dotted prefix (`delivery` takes every
/// `delivery.…` column). A pattern that takes no column is a problem, with did-you-mean.
enum TargetSelection {
    /// The header's indices of the targets, in the header's order.
    static func columns(_ patterns: [String], header: [String], file: String) throws(Problem) -> [Int] {
        var chosen = Set<Int>()
        var problems: [Problem] = []
        for pattern in patterns {
            let isGlob = pattern.contains { "*?[".contains($0) }
            let matched = header.indices.filter { i in
                let column = header[i]
                return isGlob ? fnmatch(pattern, column, 0) == 0 : column == pattern || column.hasPrefix(pattern + ".")
            }
            if matched.isEmpty {
                problems.append(Problem(message: "--targets: no column is '\(pattern)'" + (isGlob ? " or matches it" : " or starts with '\(pattern).'"),
                                        at: .init(file: file, line: 1),
                                        hint: Suggestion.hint(for: pattern, among: header) ?? "the header has \(header.joined(separator: ", "))"))
            }
            chosen.formUnion(matched)
        }
        if var first = problems.first {
            first.further = Array(problems.dropFirst())
            throw first
        }
        return chosen.sorted()
    }
}
