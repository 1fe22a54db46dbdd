import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// A branch started from a PyTorch `state_dict()` (`layout: torch`): the layers found by
/// `names:` pairs or in order, convolution weights moved from (O, I, kH, kW) to (F, K, K, C), a
/// Linear after a flatten moved from channels-first to channels-last columns, and every mismatch
/// located before anything is copied.
struct TorchLayoutTests {
    /// A 4×4×4 image → conv 3 filters 3×3 (PyTorch's `features.0`) → batchnorm (`features.1`) →
    /// relu → flatten → dense 5 (`classifier`).
    static func flow(_ initExtras: String) -> String {
        """
        name: torchlike
        data: {train: train.csv}
        inputs:
          image: {type: image, column: path, shape: [4, 4, 4]}
        trunk:
          body:
            from: image
            layers: [conv: {filters: 3, kernel: 3, padding: 1}, batchnorm, relu, flatten, dense: 5]
            init: torch.safetensors
        \(initExtras.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        flow:
          open: {type: binary}
        """
    }

    /// PyTorch's tensors, each value its own index + an offset, so that every move shows.
    static func torchFile(in directory: URL, convName: String = "features.0", extra: [SafetensorsWriter.Tensor] = []) throws {
        func counting(_ name: String, _ shape: [Int], from offset: Float) -> SafetensorsWriter.Tensor {
            SafetensorsWriter.Tensor(name: name, shape: shape, values: (0..<shape.reduce(1, *)).map { Float($0) + offset })
        }
        try SafetensorsWriter.write([
            counting("\(convName).weight", [3, 4, 3, 3], from: 0), counting("\(convName).bias", [3], from: 100),
            counting("features.1.weight", [3], from: 200), counting("features.1.bias", [3], from: 300),
            counting("features.1.running_mean", [3], from: 400), counting("features.1.running_var", [3], from: 500),
            counting("classifier.weight", [5, 48], from: 1000), counting("classifier.bias", [5], from: 2000),
        ] + extra, to: directory.appendingPathComponent("torch.safetensors").path)
    }

    static func load(_ initExtras: String, in directory: URL) throws -> Plan {
        let flow = try FlowLoader.load(bytes: Array(flow(initExtras).utf8), file: directory.appendingPathComponent("flow.yaml").path)
        let plan = ModelCompiler.compile(flow, facts: DataFacts.synthetic(for: flow), maxBatch: 1, seed: 1).plan
        try TrunkInitialization.apply(flow, to: plan, flowDirectory: directory.path)
        return plan
    }

    static func values(_ plan: Plan, _ name: String) -> [Float] {
        guard let p = plan.parameters.first(where: { $0.name == name }) else {
            return plan.state.first { $0.name == name }.map { Array(UnsafeBufferPointer(start: $0.data, count: $0.shape.reduce(1, *))) } ?? []
        }
        return Array(UnsafeBufferPointer(start: p.value, count: p.count))
    }

    @Test(arguments: ["layout: torch", "layout: torch\nnames: in_order",
                      "layout: torch\nnames: {0.conv: features.0, 1.batchnorm: features.1, 4.dense: classifier}"])
    func weightsArriveInTheEnginesLayout(_ extras: String) throws {
        let directory = try temporaryDirectory("torch")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.torchFile(in: directory)
        let plan = try Self.load(extras, in: directory)
        // conv: ours (f, ky, kx, c) = PyTorch's (f, c, ky, kx), whose value is its flat index.
        let conv = Self.values(plan, "trunk.body.0.conv.weight")
        var expectedConv = [Float](repeating: 0, count: 108)
        for f in 0..<3 { for ky in 0..<3 { for kx in 0..<3 { for c in 0..<4 {
            let torchIndex: Int = ((f * 4 + c) * 3 + ky) * 3 + kx
            expectedConv[((f * 3 + ky) * 3 + kx) * 4 + c] = Float(torchIndex)
        } } } }
        #expect(conv == expectedConv)
        #expect(Self.values(plan, "trunk.body.0.conv.bias") == [100, 101, 102])
        #expect(Self.values(plan, "trunk.body.1.batchnorm.running_var") == [500, 501, 502])
        // dense after flatten of a 4×4×3 image: our column (y, x, c) = PyTorch's (c, y, x).
        let dense = Self.values(plan, "trunk.body.4.dense.weight")
        var expectedDense = [Float](repeating: 0, count: 240)
        for o in 0..<5 { for y in 0..<4 { for x in 0..<4 { for c in 0..<3 {
            let torchIndex: Int = o * 48 + (c * 4 + y) * 4 + x
            expectedDense[o * 48 + (y * 4 + x) * 3 + c] = 1000 + Float(torchIndex)
        } } } }
        #expect(dense == expectedDense)
    }

    @Test func mismatchesAreLocatedWithBothShapesAndNames() throws {
        let directory = try temporaryDirectory("torch")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.torchFile(in: directory, convName: "features.conv")
        let file = directory.appendingPathComponent("torch.safetensors").path
        func problem(_ extras: String) -> String {
            do { _ = try Self.load(extras, in: directory); return "" } catch { return "\(error)" }
        }
        // A module name that is not in the file, and a layer the branch does not have.
        let named = problem("layout: torch\nnames: {0.conv: features.0, 1.batchnorm: features.1, 4.dense: classifier, 9.conv: x}")
            .split(separator: "\n")
        #expect(named.count == 3)
        #expect(named[0].hasSuffix("flow.yaml:11:79: branch 'body': init: names: the branch has no layer '9.conv' with "
                                   + "weights (did you mean '0.conv'?)"), "\(named)")
        #expect(named[1].hasSuffix(":11:21: branch 'body': init: names: \(file) has no module 'features.0' (no tensor "
                                   + "'features.0.…') (did you mean 'features.1'?)"), "\(named)")
        // In order: the conv module is there under another name and still fits; a layer whose
        // shapes nothing in the file has is named with what it needs.
        #expect(problem("layout: torch") == "")
        try Self.torchFile(in: directory, extra: [SafetensorsWriter.Tensor(name: "features.0.extra", shape: [1], values: [0])])
        let unfit = problem("layout: torch")
        #expect(unfit.hasSuffix("flow.yaml:9:11: branch 'body': init: names: in_order: no module of \(file) left for layer "
                                + "'0.conv', which needs weight [3, 4, 3, 3], bias [3] (name the modules with names: "
                                + "{0.conv: <module>, …})"), "\(unfit)")
        // A shape that differs: both shapes, PyTorch's and the engine's.
        try Self.torchFile(in: directory)
        let shaped = problem("names: {0.conv: features.0, 1.batchnorm: features.1, 4.dense: classifier}")
        #expect(shaped.contains("tensor 'features.0.weight' is [3, 4, 3, 3], 'trunk.body.0.conv.weight' needs [3, 3, 3, 4]"),
                "\(shaped)")
        let transposed = problem("layout: torch\nnames: {0.conv: classifier, 1.batchnorm: features.1, 4.dense: features.0}")
        #expect(transposed.contains("tensor 'classifier.weight' is [5, 48], 'trunk.body.0.conv.weight' needs [3, 4, 3, 3] "
                                    + "([3, 3, 3, 4] in flowtrain's layout)"), "\(transposed)")
        // Layers left without a name.
        #expect(problem("layout: torch\nnames: {0.conv: features.0}")
            .contains("names: no modules for layers '1.batchnorm', '4.dense' (name every layer with weights, or write names: in_order)"))
    }

    @Test func layoutAndNamesNeedAnInitAndPrefixExcludesThem() {
        func errors(_ branch: String) -> String {
            let text = """
                name: t
                data: {train: train.csv}
                inputs:
                  x: {type: numeric, columns: [a]}
                trunk:
                  body: {from: x, layers: [dense: 2]\(branch)}
                flow:
                  open: {type: binary}
                """
            do { _ = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml"); return "" } catch { return "\(error)" }
        }
        #expect(errors(", layout: torch").contains("f.yaml:6:47: branch 'body': 'layout' says how to read the file of 'init', and there is none"))
        #expect(errors(", init: w.safetensors, layout: pytorch").contains("'pytorch' is not one of flowtrain, torch (did you mean 'torch'?)"))
        #expect(errors(", init: w.safetensors, layout: torch, prefix: a.").contains("'prefix' names tensors by the branch's own names, and layout: torch maps layers in order"))
        #expect(errors(", init: w.safetensors, names: first").contains("names: expected 'in_order' or a mapping"))
    }
}
