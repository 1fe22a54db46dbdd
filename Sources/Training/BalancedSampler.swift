import Engine

/// `sampling: balanced`: an epoch's rows drawn with replacement so that every pattern of
/// counted tasks (which tasks a row trains) is drawn as often as any other, as patchwork's
/// trainer does. A row whose pattern is rare — a person behind an open door, say — is then not
/// starved by the common ones.
enum BalancedSampler {
    static func draw(_ split: EncodedSplit, count: Int, random: inout Random) -> [Int] {
        draw(counts: split.counts, rows: split.rows, count: count, random: &random)
    }

    /// `count` of `rows` rows drawn, `counts` saying per task whether it counts on each row.
    static func draw(counts: [[Bool]], rows: Int, count: Int, random: inout Random) -> [Int] {
        // Rows grouped by pattern: the set of tasks that count on them.
        var groups: [[Bool]: [Int]] = [:]
        for row in 0..<rows {
            groups[counts.map { $0[row] }, default: []].append(row)
        }
        let patterns = groups.keys.sorted { $0.lexicographicallyPrecedes($1) { !$0 && $1 } }
        return (0..<count).map { _ in
            let members = groups[patterns[Int(random.next() % UInt64(patterns.count))]]!
            return members[Int(random.next() % UInt64(members.count))]
        }
    }
}
