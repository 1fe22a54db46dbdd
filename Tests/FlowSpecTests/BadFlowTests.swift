import Foundation
import Testing
@testable import FlowSpec

/// Every file in `BadFlows/` is a flow with mistakes; its `# expect: LINE:COL: message` lines
/// (at the end, so they shift no line) are exactly the diagnostics it must produce, in order.
struct BadFlowTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("BadFlows")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func corpusHoldsAtLeastThirtyFlows() {
        #expect(Self.files.count >= 30)
    }

    @Test(arguments: files)
    func reportsExactlyTheExpectedDiagnostics(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let bytes = try [UInt8](Data(contentsOf: url))
        let expected = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("# expect: ") }
            .map { String($0.dropFirst("# expect: ".count)) }
        #expect(!expected.isEmpty, "\(name) states no expected diagnostic")
        do {
            _ = try FlowLoader.load(bytes: bytes, file: name)
            Issue.record("\(name) was accepted")
        } catch {
            let observed = ([error] + error.further).map { problem -> String in
                #expect(problem.location?.file == name)
                return lineAndColumn(problem)
            }
            #expect(observed == expected)
        }
    }
}
