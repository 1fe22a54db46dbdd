import Foundation
import Testing
import FlowSpec

/// `check`'s two forms of a resolved flow tell the same facts: the parameter counts, exact or
/// as formulas over the sizes the data decides.
struct FlowSummaryTests {
    @Test func textAndJSONGiveTheSameParameterCounts() throws {
        let flow = try load(minimalHeader + """
            trunk:
              body: {from: x, layers: [dense: 4, relu]}
            flow:
              open: {type: binary}
              kind: {type: classification, when: open}
            """)
        let summary = FlowSummary(flow)
        let lines = summary.text.split(separator: "\n")
        #expect(lines.first == "flow t (f.yaml)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(summary.json.utf8)) as? [String: Any])
        let parameters = try #require(json["parameters"] as? [String: Any])
        // Missing-value indicators and `kind`'s classes are the data's: formulas, in both forms.
        let trunk = try #require(parameters["trunk"] as? String), heads = try #require(parameters["heads"] as? String)
        let total = try #require(parameters["total"] as? String)
        #expect(trunk == "16 + 4×indicators(x)" && heads == "5 + 5×classes(kind)", "\(parameters)")
        #expect(lines.last == "parameters: \(trunk) in inputs and trunk + \(heads) in heads = \(total)")
    }
}
