import Foundation
import Testing

/// `train` with a branch started from a PyTorch file (`layout: torch`): a file that is not
/// safetensors, a module name the file does not have, and a tensor of another shape each stop
/// the run with exit 2, located at the flow's `init:` or `names:` entry.
struct TorchInitCommandTests {
    /// A safetensors file of float32 tensors, byte by byte (header length, JSON header, data).
    static func safetensors(_ tensors: [(name: String, shape: [Int])]) -> Data {
        var entries: [String] = [], data = Data(), offset = 0
        for tensor in tensors {
            let count = tensor.shape.reduce(1, *)
            entries.append("\"\(tensor.name)\":{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                           + "\"data_offsets\":[\(offset),\(offset + 4 * count)]}")
            for i in 0..<count { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            offset += 4 * count
        }
        let header = Data(("{" + entries.joined(separator: ",") + "}").utf8)
        var length = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { length.append(contentsOf: $0) }
        return length + header + data
    }

    @Test func badPyTorchFilesStopTrainingWithLocatedProblems() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func train(_ branchExtras: String) throws -> CommandResult {
            let flow = try TabularRunFixture.write(in: directory, layers: "[dense: 8, relu], " + branchExtras)
            return try run(["train", flow.path, "--run-dir", directory.appendingPathComponent("run-\(UUID().uuidString)").path])
        }
        let flowPath = directory.appendingPathComponent("flow.yaml").path
        let file = directory.appendingPathComponent("w.safetensors")
        // The branch's one layer with weights is `0.dense`, reading x (2 columns, 4 bins each
        // through the encoding: 8 values) and kind (2): 10 inputs.
        try "not safetensors".write(to: file, atomically: true, encoding: .utf8)
        let notSafetensors = try train("init: w.safetensors, layout: torch")
        #expect(notSafetensors.status == 2)
        #expect(notSafetensors.stderr.hasPrefix("\(flowPath):7:56: branch 't': init: \(file.path): the header length"),
                "\(notSafetensors.stderr)")

        try Self.safetensors([("fc.weight", [8, 10]), ("fc.bias", [8])]).write(to: file)
        let renamed = try train("init: w.safetensors, layout: torch, names: {0.dense: fc1}")
        #expect(renamed.status == 2)
        #expect(renamed.stderr == "\(flowPath):7:103: branch 't': init: names: \(file.path) has no module 'fc1' (no tensor "
                + "'fc1.…') (did you mean 'fc'?)\n", "\(renamed.stderr)")

        try Self.safetensors([("fc.weight", [8, 12]), ("fc.bias", [8])]).write(to: file)
        let misshapen = try train("init: w.safetensors, layout: torch, names: {0.dense: fc}")
        #expect(misshapen.status == 2)
        #expect(misshapen.stderr == "\(flowPath):7:56: branch 't': init: \(file.path): tensor 'fc.weight' is [8, 12], "
                + "'trunk.t.0.dense.weight' needs [8, 10]\n", "\(misshapen.stderr)")

        // The right shapes train.
        try Self.safetensors([("fc.weight", [8, 10]), ("fc.bias", [8])]).write(to: file)
        let loaded = try train("init: w.safetensors, layout: torch")
        #expect(loaded.status == 0, "\(loaded.stderr)")
    }
}
