import Foundation
import Testing

/// The security demo written as JPEG (`datasets security --format jpeg`): `init` reads the
/// JPEGs' shape and the flow it writes trains on them.
struct JPEGDatasetCommandTests {
    @Test func securityAsJPEGInitsAndTrains() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try run(["datasets", "security", "--out", "data", "--n", "200", "--format", "jpeg"], in: directory)
        try #require(written.status == 0, "\(written.stderr)")
        let first = try Data(contentsOf: directory.appendingPathComponent("data/images/00000.jpg"))
        #expect(Array(first.prefix(3)) == [0xFF, 0xD8, 0xFF])

        let drafted = try run(["init", "data/train.csv", "--targets", "camera_blocked", "--out", "flow.yaml"], in: directory)
        try #require(drafted.status == 0, "\(drafted.stderr)")
        let text = try String(contentsOf: directory.appendingPathComponent("flow.yaml"), encoding: .utf8)
        #expect(text.contains("image: {type: image, column: image, shape: [64, 64, 3]}"), "\(text)")
        let trained = try run(["train", "flow.yaml", "--epochs", "1", "--run-dir", "run"], in: directory, deadline: 300)
        #expect(trained.status == 0, "\(trained.stderr)")

        let orders = try run(["datasets", "orders", "--out", "orders", "--n", "10", "--format", "jpeg"], in: directory)
        #expect(orders.status == 2)
        #expect(orders.stderr.contains("--format applies to the security data set only"), "\(orders.stderr)")
    }
}
