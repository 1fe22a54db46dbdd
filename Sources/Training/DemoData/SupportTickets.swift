import Engine

/// Generated support tickets for `flows/tickets.yaml`: a line of lower-case text naming
/// products, versions and error codes, with a tree of labels — `is_bug`; for bugs, a
/// `severity` and a `component` (`bug.severity`, `bug.component`); and `tags`, a B-/I-/O tag
/// per token marking PRODUCT, VERSION and CODE spans.
///
/// Every tag depends on context, so that a model that reads tokens one by one cannot get them
/// right: a product name is an ordinary word too ("the pilot program", "a relay server") and
/// is a product only after a verb that introduces one ("running pilot", "upgraded to relay");
/// a product's second word ("cloud", "mobile", "pro") is part of it only right after it; a
/// number like `4.2` is a version only right after a product ("waited 4.2 hours" is not); a
/// four-digit number is an error code only after "error" or "code" ("order 4012" is not one).
/// The sentence labels follow from the words (the symptom says the severity, the object the
/// component), without noise; labels are missing at random.
public struct SupportTickets {
    public static let columns = ["text", "is_bug", "bug.severity", "bug.component", "tags"]
    public static let severities = ["low", "medium", "high", "critical"]
    public static let components = ["ui", "sync", "billing", "auth"]

    static let products = ["atlas", "beacon", "harbor", "pilot", "spark", "canvas", "ledger", "relay"]
    static let editions = ["cloud", "mobile", "pro"]
    static let introductions = [["using"], ["running"], ["installed"], ["upgraded", "to"], ["after", "updating", "to"],
                                ["on"], ["with"]]
    /// Ordinary uses of the product words and editions, tagged O.
    static let plainUses = [["the", "pilot", "program"], ["a", "relay", "server"], ["the", "canvas", "size"],
                            ["our", "ledger", "export"], ["the", "harbor", "view"], ["a", "spark", "plug"],
                            ["the", "atlas", "page"], ["the", "beacon", "icon"], ["the", "mobile", "app"],
                            ["the", "cloud", "folder"], ["my", "pro", "account"]]
    /// Per component, the things a ticket is about.
    static let objects = [
        [["the", "dashboard"], ["the", "settings", "page"], ["the", "menu"], ["dark", "mode"]],
        [["file", "sync"], ["the", "upload"], ["offline", "mode"], ["the", "backup"]],
        [["the", "invoice"], ["checkout"], ["the", "payment", "page"], ["the", "refund"]],
        [["login"], ["the", "password", "reset"], ["sign", "in"], ["two", "factor", "codes"]],
    ]
    /// Per severity, how a bug shows.
    static let symptoms = [
        [["has", "a", "typo"], ["looks", "misaligned"], ["shows", "a", "wrong", "label"]],
        [["is", "slow"], ["takes", "ages"], ["lags", "a", "bit"]],
        [["fails"], ["freezes"], ["stops", "responding"]],
        [["crashes"], ["loses", "data"], ["deletes", "everything"]],
    ]
    static let requests = [["how", "do", "i", "change"], ["please", "add", "a", "shortcut", "for"], ["is", "there", "a", "way", "to", "export"],
                           ["can", "you", "explain"], ["we", "would", "like", "a", "report", "on"]]
    static let openings = [[], [], ["hi", "team"], ["hello"], ["urgent"]]
    static let closings = [[], [], ["thanks"], ["please", "help"], ["since", "yesterday"], ["on", "windows"], ["on", "my", "laptop"]]
    static let units = ["hours", "minutes", "gb", "seconds"]

    var random: Random
    private let codes: [String], versions: [String]

    public init(seed: UInt64) {
        random = Random(seed: seed)
        var draw = Random(seed: seed ^ 0xC0DE)
        codes = (0..<60).map { _ in String(1000 + min(Int(draw.uniform() * 9000), 8999)) }
        versions = (1...5).flatMap { major in (0...9).map { "\(major).\($0)" } }
    }

    private mutating func pick(_ count: Int) -> Int { min(Int(random.uniform() * Float(count)), count - 1) }
    private mutating func pick<T>(_ list: [T]) -> T { list[pick(list.count)] }
    private mutating func chance(_ p: Float) -> Bool { random.uniform() < p }

    /// A ticket's text and tags as it is built.
    private struct Line {
        var words: [String] = []
        var tags: [String] = []
        mutating func add(_ words: [String], _ tag: String = "O") {
            self.words += words
            tags += Array(repeating: tag, count: words.count)
        }
    }

    /// A product mention: an introducing verb, the product, maybe its edition and version.
    private mutating func mention(_ line: inout Line) {
        line.add(pick(Self.introductions))
        line.add([pick(Self.products)], "B-PRODUCT")
        if chance(0.35) { line.add([pick(Self.editions)], "I-PRODUCT") }
        if chance(0.7) { line.add([pick(versions)], "B-VERSION") }
    }

    /// A distractor: a product word, an edition, a version-like number or a code-like number
    /// where it is none of them.
    private mutating func distractor(_ line: inout Line) {
        switch pick(4) {
        case 0, 1: line.add(pick(Self.plainUses))
        case 2: line.add([pick(["waited", "it", "took", "about"]), pick(versions), pick(Self.units)])
        default: line.add([pick(["for", "re", "about"]), pick(["order", "ticket", "invoice"]), pick(codes)])
        }
    }

    /// One ticket's cells, in `columns` order.
    public mutating func next() -> [String] {
        var line = Line()
        line.add(pick(Self.openings))
        let isBug = chance(0.6)
        let component = pick(Self.components.count), severity = pick(Self.severities.count)
        if isBug {
            line.add(pick(Self.objects[component]))
            if chance(0.8) { mention(&line) }
            line.add(pick(Self.symptoms[severity]))
            if chance(0.6) {
                line.add(["with", pick(["error", "code"])])
                line.add([pick(codes)], "B-CODE")
            }
        } else {
            line.add(pick(Self.requests))
            line.add(pick(Self.objects[component]))
            if chance(0.7) { mention(&line) }
        }
        if chance(0.6) { distractor(&line) }
        if chance(0.2) { distractor(&line) }
        line.add(pick(Self.closings))
        // Labels missing at random, each on its own.
        let missing = (0..<4).map { _ in chance(0.08) }
        return [line.words.joined(separator: " "),
                missing[0] ? "" : (isBug ? "1" : "0"),
                !isBug || missing[1] ? "" : Self.severities[severity],
                !isBug || missing[2] ? "" : Self.components[component],
                missing[3] ? "" : line.tags.joined(separator: " ")]
    }
}
