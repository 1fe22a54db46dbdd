import Foundation
import Testing
@testable import FlowSpec

/// Flows no one writes by hand but a generator or an attacker might: each gets a located
/// error or a result, quickly, never a crash (found by an adversarial review).
struct PathologicalFlowTests {
    let header = minimalHeader

    @Test func thousandsOfNotsAreRefusedNotRecursedInto() {
        let text = header + "flow:\n  a: {type: binary}\n  b: {type: binary, when: " + String(repeating: "not ", count: 10_000) + "a}\n"
        #expect(diagnostics(text) == ["7:27: task 'b': when: the condition is 40001 characters long; at most 2000 are allowed"])
    }

    @Test func deepParenthesesAreRefused() {
        let text = header + "flow:\n  a: {type: binary}\n  b: {type: binary, when: \"" + String(repeating: "(", count: 40)
            + "a" + String(repeating: ")", count: 40) + "\"}\n"
        #expect(diagnostics(text) == ["7:60: task 'b': when: the condition nests 'not' and parentheses more than 32 deep"])
    }

    @Test func longConjunctionsAreRefused() {
        let text = header + "flow:\n  a: {type: binary}\n  b: {type: binary, when: "
            + Array(repeating: "a", count: 200).joined(separator: " and ") + "}\n"
        #expect(diagnostics(text) == ["7:627: task 'b': when: the condition has more than 100 terms"])
    }

    @Test func aliasesCannotNestPastTheDepthLimit() {
        // Each anchor wraps the previous one in 10 more levels: 10 anchors are 100 levels.
        var text = header + "x-r:\n"
        var previous = "relu"
        for level in 0..<10 {
            text += "  - &r\(level) " + String(repeating: "[residual: ", count: 10) + previous
                + String(repeating: "]", count: 10) + "\n"
            previous = "*r\(level)"
        }
        text += "flow:\n  a: {type: binary, head: *r9}\n"
        let result = diagnostics(text)
        #expect(result.count == 1)
        #expect(result.first?.contains("nested more than 64 levels deep (counting what aliases repeat)") == true)
    }

    /// A flow that is large as written is not called an alias bomb: the error says what the
    /// limit counts and what fits.
    @Test func thirtyThousandTasksAreRefusedForTheirSize() {
        var text = header + "flow:\n"
        for i in 0..<30_000 { text += "  t\(i): {type: binary}\n" }
        #expect(diagnostics(text) == ["6:3: this flow has more than 100,000 YAML nodes (keys, values, lists and mappings), "
                                      + "the most a flow file may have (a task written 't: {type: binary}' is 4 nodes, "
                                      + "so about 25,000 such tasks fit)"])
        var fits = header + "flow:\n"
        for i in 0..<24_000 { fits += "  t\(i): {type: binary}\n" }
        #expect(throws: Never.self) { try YAMLReader().read(Array(fits.utf8), file: "f.yaml") }
    }

    @Test func longPreconditionChainsResolveInLinearTime() throws {
        var text = header + "flow:\n"
        let count = 6_000
        for i in 0..<count { text += "  t\(i): {type: binary\(i + 1 < count ? ", when: t\(i + 1)" : "")}\n" }
        let start = Date()
        let flow = try load(text)
        #expect(Date().timeIntervalSince(start) < 10)  // was a stack overflow, then minutes
        #expect(flow.tasks.first?.path.description == "t\(count - 1)")
        #expect(flow.tasks.last?.path.description == "t0")
    }

    @Test func longBranchChainsResolve() throws {
        var text = header + "trunk:\n"
        let count = 8_000
        for i in 0..<count { text += "  b\(i): {from: \(i + 1 < count ? "b\(i + 1)" : "x")}\n" }
        text += "flow:\n  a: {type: binary, input: b0}\n"
        let flow = try load(text)
        #expect(flow.branches.count == count)
    }

    @Test func manyErrorsAreCappedAndCounted() {
        var text = header + "flow:\n  a: {type: binary}\n"
        for i in 0..<10_000 { text += "k\(i): 1\n" }
        let start = Date()
        let result = diagnostics(text)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(result.count == 101)
        #expect(result.last == "… and 9900 more problems not shown")
    }

    @Test func theFirstHundredProblemsInFileOrderAreShown() {
        var text = header + "trunk:\n  b: {from: x, layers: ["
        text += Array(repeating: "rleu", count: 150).joined(separator: ", ") + "]}\n"
        text += "flow:\n  a: {type: binary, when: nope}\n"
        let result = diagnostics(text)
        #expect(result.count == 101)
        #expect(result.last == "… and 51 more problems not shown")
        #expect(result.allSatisfy { !$0.contains("nope") })  // line 8 comes after line 6's hundred
        let earlier = diagnostics(header + "flow:\n  a: {type: binary, when: nope}\ntrain: {epochs: 0, seed: -1}\n")
        #expect(earlier.first?.hasPrefix("6:27:") == true)
    }

    @Test func repeatedTyposAcrossManyTasksStayFast() {
        var text = header + "flow:\n  door_open: {type: binary}\n"
        for i in 0..<1_000 { text += "  t\(i): {type: binary, when: door_opn}\n" }
        let start = Date()
        let result = diagnostics(text)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(result.first?.hasSuffix("(did you mean 'door_open'?)") == true)
    }

    @Test func manySiblingFlowsStayFast() throws {
        var text = header + "flow:\n"
        for i in 0..<8_000 { text += "  g\(i): {flow: {t: {type: binary}}}\n" }
        let start = Date()
        let flow = try load(text)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(flow.tasks.count == 8_000)
    }

    @Test func veryLongNamesGetNoSuggestionAndNoWait() {
        let long = String(repeating: "a", count: 1_500)  // under the 2,000-character limit of a condition
        let text = header + "flow:\n  ? \(long)\n  : {type: binary}\n  b: {type: binary, when: \(long)b}\n"
        let start = Date()
        let result = diagnostics(text)
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(result.count == 1 && result[0].hasSuffix("precondition refers to unknown task '\(long)b'"))
    }
}
