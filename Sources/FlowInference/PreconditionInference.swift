/// Preconditions from co-missingness: a target (or a nested flow's targets together) whose labels
/// are present only on rows where another target has one value, or one of some classes, is
/// only defined there, and gets that condition as its `when:`.
///
/// An atom about a parent task P (`P`, `not P`, `P == c`, `P in [c, d]`) is a candidate when
/// every row that carries the labels and P's label satisfies the atom, and at most
/// `unknownShare` of the carrying rows lack P's label. Chance could do
/// that, so it is inferred only on evidence: at least `minimumRows` rows carry the labels, at
/// least `minimumRows` rows with P's label fail the atom (and so carry none), and, were the
/// labels' holes independent of P, all the carrying rows would satisfy the atom with probability
/// `share^rows` below `chance` (`share`: the rows with P's label that satisfy it). Of the
/// candidates the most specific (fewest rows satisfying it) is taken; another is added with
/// `and` when at least `minimumRows` rows satisfy those taken and fail it.
struct PreconditionInference {
    static let minimumRows = 30
    static let chance = 1e-6
    /// The largest share of the carrying rows whose parent label may be missing (blanked at
    /// random, say): those rows' labels go unused, since the condition is unknown there.
    static let unknownShare = 0.1

    /// A task that can be named in a condition: its path, its per-row codes (`TaskGuess.codes`)
    /// and, for a classification, its classes (nil for a binary task).
    struct Parent {
        let path: String
        let codes: [Int32]
        let classes: [String]?
    }

    /// One inferred atom: which parent, which of its codes satisfy it, and the evidence.
    struct Atom: Equatable {
        let parent: String
        /// The parent's index in `parents`.
        let index: Int
        /// The codes that make the atom true (binary: [1] or [0]).
        let codes: Set<Int32>
        /// The atom as `when:` reads it, with `name` standing for the parent's name there.
        let text: (String) -> String
        /// Rows carrying the labels and the parent's (all satisfying the atom), and those
        /// carrying the labels without the parent's; rows with the parent's label failing it
        /// (none carrying a label); rows satisfying it.
        let carrying: Int, unknown: Int, failing: Int, satisfying: Int

        static func == (a: Atom, b: Atom) -> Bool { a.parent == b.parent && a.codes == b.codes }
    }

    let parents: [Parent]

    /// The condition under which rows carry labels (`present`), as atoms joined by `and`;
    /// `excluded` parents (the targets themselves, and anything inside a nested flow for its own
    /// condition) are not considered; `given` are atoms already holding (an enclosing flow's),
    /// which the result leaves out and never repeats. Empty when nothing is inferred.
    func condition(present: [Bool], excluding excluded: Set<String>, given: [Atom] = []) -> [Atom] {
        let rows = present.count
        // Rows where the given atoms hold: the ones the condition is judged on.
        let within = (0..<rows).map { row in given.allSatisfy { atom in holds(atom, row) } }
        var candidates: [Atom] = []
        for (index, parent) in parents.enumerated() where !excluded.contains(parent.path) {
            if let atom = candidate(parent, index: index, present: present, within: within) { candidates.append(atom) }
        }
        candidates.sort { $0.satisfying != $1.satisfying ? $0.satisfying < $1.satisfying : $0.parent < $1.parent }
        var taken: [Atom] = []
        for atom in candidates {
            // Rows where the taken atoms hold and this one fails (its parent known): only those
            // make it add anything.
            let cut = (0..<rows).count { row in within[row] && taken.allSatisfy { holds($0, row) } && fails(atom, row) }
            if taken.isEmpty ? atom.failing >= Self.minimumRows : cut >= Self.minimumRows { taken.append(atom) }
        }
        return taken
    }

    /// Whether `atom` holds in `row` (its parent's label there is one of its codes).
    func holds(_ atom: Atom, _ row: Int) -> Bool {
        atom.codes.contains(parents[atom.index].codes[row])
    }

    /// Whether `atom` is false in `row` (its parent's label there is known and not one of its codes).
    func fails(_ atom: Atom, _ row: Int) -> Bool {
        let code = parents[atom.index].codes[row]
        return code >= 0 && !atom.codes.contains(code)
    }

    private func candidate(_ parent: Parent, index: Int, present: [Bool], within: [Bool]) -> Atom? {
        var seen = Set<Int32>(), carrying = 0, unknown = 0
        for row in present.indices where present[row] && within[row] {
            let code = parent.codes[row]
            guard code >= 0 else { unknown += 1; continue }
            seen.insert(code)
            carrying += 1
        }
        guard Double(unknown) <= Self.unknownShare * Double(carrying + unknown) else { return nil }
        let known = (0..<present.count).filter { within[$0] && parent.codes[$0] >= 0 }
        let satisfying = known.count { seen.contains(parent.codes[$0]) }
        let failing = known.count - satisfying
        guard carrying >= Self.minimumRows, failing >= Self.minimumRows, !known.isEmpty else { return nil }
        let share = Double(satisfying) / Double(known.count)
        guard Double(carrying) * log10(share) < log10(Self.chance) else { return nil }
        let text: (String) -> String
        if let classes = parent.classes {
            let named = seen.sorted().map { ConditionText.className(classes[Int($0)]) }
            text = named.count == 1 ? { "\($0) == \(named[0])" } : { "\($0) in [\(named.joined(separator: ", "))]" }
        } else {
            text = seen.contains(1) ? { $0 } : { "not \($0)" }
        }
        return Atom(parent: parent.path, index: index, codes: seen, text: text, carrying: carrying, unknown: unknown, failing: failing, satisfying: satisfying)
    }
}

/// How class names are written in a `when:` (docs/flow-format.md, grammar): a word as it is,
/// anything else in quotes.
enum ConditionText {
    static func className(_ name: String) -> String {
        let isWord = !name.isEmpty && !["and", "or", "not", "in"].contains(name)
            && name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        if isWord { return name }
        return name.contains("'") ? "\"\(name)\"" : "'\(name)'"
    }
}

import Foundation
