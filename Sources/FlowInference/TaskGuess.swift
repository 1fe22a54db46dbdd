import FileFormats

/// The task type `flowtrain init` gives a label column, from its values
/// (docs/commands/init.md has the rules):
/// - a `|` in some value: `multilabel`, its labels every part seen (`none` is the empty set);
/// - two values that spell true and false (`0`/`1`, `true`/`false`, `yes`/`no`): `binary`;
/// - numbers from 0 up to a bound they reach (1, 5, 10 or 100: a share, a rating, a
///   percentage) or up to an image input's side (a box in pixels): `bounded_regression` with
///   that `scale`; other numbers: `regression`;
/// - other text, at most `classesAtMost` values: `classification`, most frequent first.
struct TaskGuess {
    /// The most classes a classification is given; a text column with more is a problem.
    static let classesAtMost = 100
    /// The bounds a bounded regression's largest value may reach.
    static let roundBounds: [Double] = [1, 5, 10, 100]

    enum Kind: Equatable {
        case binary
        case classification(classes: [String])
        case multilabel(labels: [String])
        case boundedRegression(scale: Double)
        case regression
    }

    let kind: Kind
    /// Why, in a few words, for the comment beside the task.
    let evidence: String
    /// Per row, for a task that can be a precondition: -1 where the label is missing, else 0
    /// or 1 (binary: false, true) or the class's index in `classes`.
    let codes: [Int32]?

    /// The type of the label column `profile` describes; `imageSide` is an image input's side
    /// (height and width equal), if there is one.
    init(_ profile: ColumnProfile, table: CSVTable, imageSide: Int?) throws(Problem) {
        let location = Problem.Location(file: table.file, line: 1, column: profile.index + 1, columnName: profile.name)
        guard profile.presentCount > 0 else {
            throw Problem(message: "target '\(profile.name)' has no label in any row", at: location,
                          hint: "a task needs labels to learn from; leave the column out of --targets")
        }
        guard profile.distinctCount > 1 else {
            throw Problem(message: "target '\(profile.name)' holds one value only ('\(profile.firstValue ?? "")')", at: location,
                          hint: "there is nothing to predict; leave the column out of --targets")
        }
        if profile.hasSets {
            var labels: [String] = []
            for value in profile.valuesByCount {
                for part in value.split(separator: "|").map(String.init) where part != "none" && !labels.contains(part) {
                    labels.append(part)
                }
            }
            guard !profile.manyValues, !labels.isEmpty else {
                throw Problem(message: "target '\(profile.name)' has sets of more than \(ColumnProfile.countedValues) kinds", at: location,
                              hint: "a multilabel task lists its labels; split the column or leave it out of --targets")
            }
            kind = .multilabel(labels: labels)
            evidence = "sets of \(labels.count) labels joined by |"
            codes = nil
            return
        }
        let values = profile.valuesByCount
        if values.count == 2, let truth = Self.truthValues(values) {
            kind = .binary
            evidence = "two values, \(values.sorted().joined(separator: " and "))"
            codes = (0..<profile.rows).map { row in
                guard let value = profile.value(table, row: row) else { return -1 }
                return value == truth ? 1 : 0
            }
            return
        }
        if let numbers = profile.numbers {
            if numbers.min >= 0, let scale = Self.bound(of: numbers.max, imageSide: imageSide) {
                kind = .boundedRegression(scale: scale)
                evidence = "numbers from \(Self.text(numbers.min)) to \(Self.text(numbers.max))"
                    + (Double(imageSide ?? 0) == scale ? ", within the image's \(Int(scale)) pixels" : "")
            } else {
                kind = .regression
                evidence = "numbers from \(Self.text(numbers.min)) to \(Self.text(numbers.max))"
            }
            codes = nil
            return
        }
        guard !profile.manyValues, values.count <= Self.classesAtMost else {
            throw Problem(message: "target '\(profile.name)' has \(profile.distinctCount) distinct values, too many for classes", at: location,
                          hint: "a classification has at most \(Self.classesAtMost) classes here; write its task by hand")
        }
        let classes = values
        kind = .classification(classes: classes)
        evidence = "\(classes.count) values"
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        codes = (0..<profile.rows).map { row in profile.value(table, row: row).flatMap { index[$0] } ?? -1 }
    }

    /// The value meaning true when `values` are a pair the binary task reads as true and false
    /// (docs/flow-format.md, label cells).
    static func truthValues(_ values: [String]) -> String? {
        let pairs: [(String, String)] = [("1", "0"), ("true", "false"), ("yes", "no")]
        for (yes, no) in pairs {
            let lower = values.map { $0.lowercased() }
            if Set(lower) == [yes, no] { return values[lower.firstIndex(of: yes) ?? 0] }
        }
        return nil
    }

    /// The scale of a bounded regression whose largest value is `maximum`: the image's side
    /// when the values fit in it, else a round bound the values reach.
    static func bound(of maximum: Double, imageSide: Int?) -> Double? {
        if let side = imageSide, maximum <= Double(side) { return Double(side) }
        return roundBounds.first { $0 == maximum }
    }

    static func text(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
