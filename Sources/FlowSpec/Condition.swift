/// A `when:` precondition over other tasks. `Reference` is how a task is named: the name as
/// written (`Located<String>`) after parsing, a `TaskPath` after resolution.
///
/// Semantics (docs/semantics.md): an atom about task T is unknown when T's value is unknown —
/// its label is missing, or T itself was not reached. `not`, `and`, `or` follow Kleene's
/// three-valued logic, and a precondition holds only when it is true.
public indirect enum Condition<Reference: Sendable>: Sendable {
    /// A binary task decoded (or labelled) true.
    case isTrue(Reference)
    /// A classification task equal to one class: `shirt_type == jacket`.
    case equals(Reference, Located<String>)
    /// A classification task equal to one of several classes: `shirt_type in [jacket, coat]`.
    case isIn(Reference, [Located<String>])
    case not(Condition)
    case and(Condition, Condition)
    case or(Condition, Condition)

    /// Every task reference, left to right.
    public var references: [Reference] {
        switch self {
        case .isTrue(let r), .equals(let r, _), .isIn(let r, _): [r]
        case .not(let c): c.references
        case .and(let a, let b), .or(let a, let b): a.references + b.references
        }
    }

    /// The same condition with every reference mapped; nil if any reference maps to nil.
    public func map<Other>(_ transform: (Reference) -> Other?) -> Condition<Other>? {
        switch self {
        case .isTrue(let r): transform(r).map { .isTrue($0) }
        case .equals(let r, let c): transform(r).map { .equals($0, c) }
        case .isIn(let r, let cs): transform(r).map { .isIn($0, cs) }
        case .not(let c): c.map(transform).map { .not($0) }
        case .and(let a, let b):
            a.map(transform).flatMap { x in b.map(transform).map { .and(x, $0) } }
        case .or(let a, let b):
            a.map(transform).flatMap { x in b.map(transform).map { .or(x, $0) } }
        }
    }

    /// The conjunction of `conditions`, left-nested; nil for none.
    public static func all(_ conditions: [Condition]) -> Condition? {
        guard var result = conditions.first else { return nil }
        for next in conditions.dropFirst() { result = .and(result, next) }
        return result
    }

    /// The condition written back with the fewest parentheses the precedence
    /// (`not` > `and` > `or`) allows, naming references with `name`.
    public func text(_ name: (Reference) -> String) -> String {
        render(name, precedence: 0)
    }

    private func render(_ name: (Reference) -> String, precedence outer: Int) -> String {
        let (text, precedence): (String, Int)
        switch self {
        case .isTrue(let r): (text, precedence) = (name(r), 4)
        case .equals(let r, let c): (text, precedence) = ("\(name(r)) == \(Self.quote(c.value))", 3)
        case .isIn(let r, let cs):
            (text, precedence) = ("\(name(r)) in [\(cs.map { Self.quote($0.value) }.joined(separator: ", "))]", 3)
        case .not(let c): (text, precedence) = ("not " + c.render(name, precedence: 3), 3)
        case .and(let a, let b):
            (text, precedence) = (a.render(name, precedence: 2) + " and " + b.render(name, precedence: 2), 2)
        case .or(let a, let b):
            (text, precedence) = (a.render(name, precedence: 1) + " or " + b.render(name, precedence: 1), 1)
        }
        return precedence < outer ? "(\(text))" : text
    }

    /// Class names that are not plain words are written quoted.
    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0 == "_" || $0 == "-" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
        }
        if plain, !Identifier.keywords.contains(value) { return value }
        return value.contains("'") ? "\"\(value)\"" : "'\(value)'"
    }
}
