/// "Did you mean" suggestions by edit distance, as compilers give for misspelt names.
public enum Suggestion {
    /// The candidate closest to `name`, if it is close enough to be a plausible typo:
    /// at most a third of the name's length in edits (at least one, and never the whole name),
    /// ties to the candidate that shares the longer beginning with the name (`unit` → `units`,
    /// not `init`), then to the first.
    public static func closest<S: Sequence>(to name: String, among candidates: S) -> String?
    where S.Element == String {
        let limit = max(1, name.count / 3)
        // Names are short; a very long one is no typo of anything, and comparing it would be slow.
        guard name.count <= 64 else { return nil }
        var best: (candidate: String, distance: Int, prefix: Int)?
        for candidate in candidates where candidate != name && abs(candidate.count - name.count) <= limit {
            let distance = editDistance(name.lowercased(), candidate.lowercased())
            guard distance <= limit, distance < name.count else { continue }
            let prefix = zip(name.lowercased(), candidate.lowercased()).prefix { $0 == $1 }.count
            if let best, (best.distance, -best.prefix) <= (distance, -prefix) { continue }
            best = (candidate, distance, prefix)
        }
        return best?.candidate
    }

    /// `did you mean 'x'?` for the closest candidate, or nil.
    public static func hint<S: Sequence>(for name: String, among candidates: S) -> String?
    where S.Element == String {
        closest(to: name, among: candidates).map { "did you mean '\($0)'?" }
    }

    /// Damerau–Levenshtein distance (optimal string alignment): insertions, deletions,
    /// substitutions and swaps of two adjacent characters each cost one. Three rolling rows.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d = min(d, before[j - 2] + 1)
                }
                current[j] = d
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
