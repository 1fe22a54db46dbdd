import Engine
import FlowSpec
import Foundation
import HandMadePNG
import Testing
@testable import Training

/// Odd but valid data trains: each case is written as users' tools write files, loaded, checked
/// for the values it should read as, and trained for one epoch.
struct OddInputTests {
    static let tabularFlow = """
        name: odd
        data: {train: train.csv}
        inputs:
          x: {type: numeric, columns: [f1, f2], normalize: none}
        flow:
          open: {type: binary}
          kind: {type: classification, when: open}
        """

    /// The rows every tabular case encodes: f1, f2, open, kind.
    static let rows: [(Float, Float, Float, String)] = [(1, 2, 1, "a,b"), (3, 4, 0, ""), (5, 6, 1, "c")]

    static let tabularCases: [(name: String, bytes: [UInt8])] = [
        ("a UTF-8 byte-order mark", [0xEF, 0xBB, 0xBF] + Array("f1,f2,open,kind\n1,2,1,\"a,b\"\n3,4,0,\n5,6,1,c\n".utf8)),
        ("CRLF line ends", Array("f1,f2,open,kind\r\n1,2,1,\"a,b\"\r\n3,4,0,\r\n5,6,1,c\r\n".utf8)),
        ("every field quoted", Array("\"f1\",\"f2\",\"open\",\"kind\"\n\"1\",\"2\",\"1\",\"a,b\"\n\"3\",\"4\",\"0\",\"\"\n\"5\",\"6\",\"1\",\"c\"\n".utf8)),
        ("an embedded newline in an extra column", Array("f1,f2,note,open,kind\n1,2,\"two\nlines, and a comma\",1,\"a,b\"\n3,4,,0,\n5,6,\"x\",1,c\n".utf8)),
        ("a trailing empty line", Array("f1,f2,open,kind\n1,2,1,\"a,b\"\n3,4,0,\n5,6,1,c\n\n".utf8)),
        ("columns in another order", Array("kind,open,f2,f1\n\"a,b\",1,2,1\n,0,4,3\nc,1,6,5\n".utf8)),
    ]

    @Test(arguments: tabularCases.indices)
    func tabularFileTrainsOneEpoch(_ index: Int) throws {
        let (name, bytes) = Self.tabularCases[index]
        let directory = try temporaryDirectory("odd")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(bytes).write(to: directory.appendingPathComponent("train.csv"))
        let data = try trainOneEpoch(Self.tabularFlow, in: directory)
        let features = try #require(data.train.inputs["x"]).floats
        #expect(features == Self.rows.flatMap { [$0.0, $0.1] }, "\(name)")
        #expect(data.train.present[1] == [true, false, true], "\(name)")  // kind: the empty cell is missing
        #expect(data.statistics.classes["kind"] == ["a,b", "c"], "\(name)")
    }

    /// 2×2 images of every colour type and depth libpng reads, declared as 3 channels.
    static let imageCases: [(name: String, bytes: [UInt8])] = [
        ("16-bit RGB", HandMadePNG.file(width: 2, bitDepth: 16, colorType: HandMadePNG.rgb,
                                        rows: [[0, 65535, 0, 1000, 2000, 3000], [65535, 0, 0, 0, 0, 65535]])),
        ("8-bit gray", HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.gray, rows: [[0, 255], [128, 64]])),
        ("gray with alpha", HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.grayAlpha,
                                             rows: [[0, 255, 255, 128], [128, 0, 64, 255]])),
        ("a palette", HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.palette, rows: [[0, 1], [1, 0]],
                                       palette: [255, 0, 0, 0, 0, 255])),
        ("RGBA", HandMadePNG.file(width: 2, bitDepth: 8, colorType: HandMadePNG.rgba,
                                  rows: [[255, 0, 0, 255, 0, 255, 0, 128], [0, 0, 255, 0, 9, 9, 9, 255]])),
    ]

    @Test(arguments: imageCases.indices)
    func imageFormatTrainsOneEpoch(_ index: Int) throws {
        let (name, bytes) = Self.imageCases[index]
        let directory = try temporaryDirectory("odd")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(bytes).write(to: directory.appendingPathComponent("a.png"))
        try "image,open\na.png,1\na.png,0\n".write(to: directory.appendingPathComponent("train.csv"), atomically: true,
                                                   encoding: .utf8)
        let flow = """
            name: odd_image
            data: {train: train.csv}
            inputs:
              image: {type: image, column: image, shape: [2, 2, 3]}
            trunk:
              body: {from: image, layers: [conv: {filters: 2, kernel: 1}, relu, global_avgpool]}
            flow:
              open: {type: binary}
            """
        let data = try trainOneEpoch(flow, in: directory)
        let pixels = try #require(data.train.inputs["image"]).bytes
        #expect(pixels.count == 2 * 2 * 2 * 3, "\(name)")
        #expect(pixels[0..<12] == pixels[12..<24], "\(name)")  // the same file on both rows, converted once each
    }

    /// Loads the flow's data from `directory` and trains one epoch into a run directory there.
    private func trainOneEpoch(_ flowText: String, in directory: URL) throws -> TrainingData {
        let flowPath = directory.appendingPathComponent("flow.yaml").path
        let flow = try FlowLoader.load(bytes: Array(flowText.utf8), file: flowPath)
        let data = try TrainingData.load(flow)
        let run = try RunDirectory.create(flowName: "odd", explicit: directory.appendingPathComponent("run").path)
        let trainer = Trainer(flow: flow, data: data, run: run, epochs: 1, seed: 1, flowText: flowText) { _, _ in }
        #expect(try trainer.train() == .finished)
        let metrics = try String(contentsOfFile: run.path("metrics.csv"), encoding: .utf8)
        #expect(metrics.contains("\n1,train,open,loss,"))
        return data
    }

}

private extension EncodedInput {
    var floats: [Float] {
        if case .floats(let values, _) = self { return values }
        return []
    }

    var bytes: [UInt8] {
        if case .bytes(let values, _) = self { return values }
        return []
    }
}
