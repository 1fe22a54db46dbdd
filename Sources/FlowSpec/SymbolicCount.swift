/// A size or parameter count that may depend on the data: `fixed + Σ coefficient × symbol`,
/// where a symbol names a quantity only the training data knows (`classes(shirt_type)`,
/// `columns(f*)`). `check` runs without data, so it prints these exactly as formulas;
/// training fills the symbols in.
public struct SymbolicCount: Hashable, Sendable, CustomStringConvertible, Codable {
    public var fixed: Int
    /// Coefficient per symbol, in the order the symbols first appeared.
    public var terms: [Term]

    /// `coefficient × symbol`.
    public struct Term: Hashable, Sendable, Codable {
        public var coefficient: Int
        public var symbol: String
    }

    public init(_ fixed: Int) {
        self.fixed = fixed
        self.terms = []
    }

    public init(symbol: String) {
        self.fixed = 0
        self.terms = [Term(coefficient: 1, symbol: symbol)]
    }

    /// The value, when no symbol is involved.
    public var known: Int? { terms.isEmpty ? fixed : nil }

    /// Counts past this are refused as a flow's sizes (a trillion values); arithmetic saturates
    /// here instead of overflowing.
    public static let limit = 1 << 40

    /// True when the count or any coefficient reached `limit`.
    public var isTooLarge: Bool { fixed >= Self.limit || terms.contains { $0.coefficient >= Self.limit } }

    public static func + (a: Self, b: Self) -> Self {
        var result = a
        result.fixed = sum(result.fixed, b.fixed)
        for term in b.terms { result.add(term) }
        return result
    }

    public static func * (a: Self, b: Self) -> Self {
        var result = SymbolicCount(product(a.fixed, b.fixed))
        for t in b.terms { result.add(Term(coefficient: product(a.fixed, t.coefficient), symbol: t.symbol)) }
        for t in a.terms { result.add(Term(coefficient: product(b.fixed, t.coefficient), symbol: t.symbol)) }
        for x in a.terms {
            for y in b.terms {
                result.add(Term(coefficient: product(x.coefficient, y.coefficient), symbol: "\(x.symbol)×\(y.symbol)"))
            }
        }
        return result
    }

    private static func sum(_ a: Int, _ b: Int) -> Int { min(a + b, limit) }  // both ≤ limit: no overflow

    private static func product(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? limit : min(value, limit)
    }

    private mutating func add(_ term: Term) {
        guard term.coefficient != 0 else { return }
        if let index = terms.firstIndex(where: { $0.symbol == term.symbol }) {
            terms[index].coefficient = Self.sum(terms[index].coefficient, term.coefficient)
        } else {
            terms.append(term)
        }
    }

    /// The count once the data has given each symbol a value (`a×b` is the product of both).
    public func evaluate(_ value: (String) -> Int) -> Int {
        terms.reduce(fixed) { total, term in
            total + term.coefficient * term.symbol.split(separator: "×").reduce(1) { $0 * value(String($1)) }
        }
    }

    /// `8,256 + 65×classes(shirt_type)`; digits grouped by thousands.
    public var description: String {
        var parts: [String] = []
        if fixed != 0 || terms.isEmpty { parts.append(Self.grouped(fixed)) }
        for term in terms {
            parts.append(term.coefficient == 1 ? term.symbol : "\(Self.grouped(term.coefficient))×\(term.symbol)")
        }
        return parts.joined(separator: " + ")
    }

    /// `1234567` → `1,234,567`.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { result.append(",") }
            result.append(c)
        }
        return value < 0 ? "-" + result : result
    }
}
