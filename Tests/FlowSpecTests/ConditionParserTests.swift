import FileFormats
import Testing
@testable import FlowSpec

struct ConditionParserTests {
    let origin = SourceLocation(file: "f.yaml", line: 3, column: 10)

    func parse(_ text: String) throws(Problem) -> Condition<Located<String>> {
        try ConditionParser.parse(text, at: origin)
    }

    /// The condition with full parentheses, to check the tree's shape.
    func shape(_ text: String) throws -> String {
        func render(_ c: Condition<Located<String>>) -> String {
            switch c {
            case .isTrue(let r): r.value
            case .equals(let r, let v): "\(r.value)==\(v.value)"
            case .isIn(let r, let vs): "\(r.value) in [\(vs.map(\.value).joined(separator: ","))]"
            case .not(let x): "(not \(render(x)))"
            case .and(let a, let b): "(\(render(a)) and \(render(b)))"
            case .or(let a, let b): "(\(render(a)) or \(render(b)))"
            }
        }
        return render(try parse(text))
    }

    @Test(arguments: [
        ("a", "a"),
        ("not a", "(not a)"),
        ("not not a", "(not (not a))"),
        ("a and b or c", "((a and b) or c)"),
        ("a or b and c", "(a or (b and c))"),
        ("not a and b", "((not a) and b)"),
        ("not (a and b)", "(not (a and b))"),
        ("a and (b or c) and d", "((a and (b or c)) and d)"),
        ("x.y.z", "x.y.z"),
        ("shirt == jacket", "shirt==jacket"),
        ("shirt != jacket", "(not shirt==jacket)"),
        ("shirt in [a, b-c, 'd e']", "shirt in [a,b-c,d e]"),
        ("shirt not in [a]", "(not shirt in [a])"),
        ("not shirt == jacket or door", "((not shirt==jacket) or door)"),
        ("size == 42", "size==42"),
    ])
    func precedenceAndForms(_ text: String, _ expected: String) throws {
        #expect(try shape(text) == expected)
    }

    @Test func referencesCarryTheirColumns() throws {
        let condition = try parse("not door_open and shirt == coat")
        let columns = condition.references.map(\.location.column)
        #expect(columns == [14, 28])
        if case .and(_, .equals(_, let value)) = condition {
            #expect(value.location.column == 37)
        } else {
            Issue.record("unexpected tree \(condition)")
        }
    }

    @Test(arguments: [
        ("", "3:10: when: the condition is empty"),
        ("a and", "3:15: when: expected a task name at the end of the condition"),
        ("(a or b", "3:10: when: '(' is never closed"),
        ("a or b)", "3:16: when: unexpected ')' after a complete condition"),
        ("a && b", "3:12: when: unexpected character '&'"),
        ("a = b", "3:12: when: unexpected character '='"),
        ("a in b", "3:15: when: expected '[' to start a list of classes, found 'b'"),
        ("a in [b,", "3:18: when: expected a class name at the end of the condition"),
        ("a in [b c]", "3:18: when: expected ',' or ']', found 'c'"),
        ("a == ", "3:15: when: expected a class name at the end of the condition"),
        ("1a", "3:10: when: '1a' is not a task name"),
        ("a.", "3:12: when: expected a task name after '.' at the end of the condition"),
        ("and", "3:10: when: expected a task name, found 'and'"),
        ("a == 'open", "3:15: when: unterminated quoted class name"),
    ])
    func errorsPointInsideTheExpression(_ text: String, _ expected: String) {
        do {
            _ = try parse(text)
            Issue.record("'\(text)' parsed")
        } catch {
            let location = error.location.map { "\($0.line ?? 0):\($0.column ?? 0): " } ?? ""
            #expect(location + error.message == expected)
        }
    }

    @Test func textUsesFewestParentheses() throws {
        let condition = try parse("(a and (b)) or not (c or d == 'x y')")
        #expect(condition.text(\.value) == "a and b or not (c or d == 'x y')")
    }
}
