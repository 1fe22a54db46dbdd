import Foundation
import Testing

/// A model larger than the machine's memory is refused before anything is allocated (exit 2),
/// located at the layer that holds the most, with the figure, instead of dying in the allocator.
struct ModelMemoryTests {
    @Test func anOversizedModelIsRefusedWithItsSize() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: huge
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1, f2]}
            trunk:
              t: {from: x, layers: [dense: 1000000, dense: 1000000]}
            flow:
              open: {type: binary}
            train: {batch_size: 4}
            """, "flow.yaml", in: directory)
        try write("f1,f2,open\n" + (0..<8).map { "\($0),\($0 % 3),\($0 % 2)" }.joined(separator: "\n") + "\n",
                  "train.csv", in: directory)
        let flow = directory.appendingPathComponent("flow.yaml").path
        let result = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path], deadline: 120)
        #expect(result.status == 2, "\(result.stderr)")
        // Parameters: 3 × 10⁶ in the first layer, 10¹² + 10⁶ in the second, 10⁶ + 1 in the head;
        // each with its gradient and Adam's two moments (16 bytes). Values per sample: the
        // input's 2, each layer's 10⁶, the head's 1; 4 bytes each at batches of 4.
        #expect(result.stderr.hasPrefix("\(flow):6:41: the model needs at least 16.0 TB of memory (1,000,005,000,001 "
                                        + "parameters, 2,000,003 values per sample at batches of 4), more than "
                                        + "the "), "\(result.stderr)")
        #expect(result.stderr.hasSuffix(" this machine has; this layer holds the most: make it smaller "
                                        + "(or the batch smaller)\n"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/model.safetensors").path))
    }
}
