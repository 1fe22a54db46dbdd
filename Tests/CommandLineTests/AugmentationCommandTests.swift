import Foundation
import Testing

/// `flows/security-augmented.yaml` trained end to end on generated scenes: two runs with the same
/// seed are identical, augmentation changes what training sees, and validation sees the data as
/// it is.
struct AugmentationCommandTests {
    @Test func augmentedTrainingIsReproducibleAndLeavesValidationAlone() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        #expect(try run(["datasets", "security", "--out", data.path, "--n", "160"]).status == 0)
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/security-augmented.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../datasets/security/", with: data.path + "/")
        // The same flow without its `augment:` block (the lines indented under it).
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let block = try #require(lines.firstIndex(of: "    augment:"))
        let blockEnd = lines[(block + 1)...].firstIndex { !$0.hasPrefix("      ") } ?? lines.count
        lines.removeSubrange(block..<blockEnd)
        let augmented = directory.appendingPathComponent("augmented.yaml").path
        let plain = directory.appendingPathComponent("plain.yaml").path
        try text.write(toFile: augmented, atomically: true, encoding: .utf8)
        try lines.joined(separator: "\n").write(toFile: plain, atomically: true, encoding: .utf8)
        #expect(!lines.joined().contains("flip_horizontal") && text.contains("flip_horizontal"))
        func train(_ flow: String, _ name: String) throws -> URL {
            let runDirectory = directory.appendingPathComponent(name)
            let result = try run(["train", flow, "--run-dir", runDirectory.path, "--epochs", "2", "--threads", "1"])
            #expect(result.status == 0, "\(result.stderr)")
            return runDirectory
        }
        let first = try train(augmented, "first"), second = try train(augmented, "second")
        let unaugmented = try train(plain, "plain")
        func file(_ run: URL, _ name: String) throws -> Data { try Data(contentsOf: run.appendingPathComponent(name)) }

        // The same seed, the same augmented batches: the same weights, bit for bit.
        #expect(try file(first, "model-last.safetensors") == file(second, "model-last.safetensors"))
        #expect(try file(first, "metrics.csv") == file(second, "metrics.csv"))
        // The same rows in the same order, from the same initial weights, give other training
        // losses once the images are augmented.
        func rows(_ run: URL, split: String, epoch: Int) throws -> [String: Double] {
            let text = String(decoding: try file(run, "metrics.csv"), as: UTF8.self)
            var values: [String: Double] = [:]
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 6, fields[0] == String(epoch), fields[1] == split else { continue }
                values["\(fields[2]) \(fields[3])"] = Double(fields[4])
            }
            return values
        }
        let trainLoss = "person_regression.face_regression.face_x1 loss"
        #expect(try rows(first, split: "train", epoch: 1)[trainLoss] != nil)
        #expect(try rows(first, split: "train", epoch: 1)[trainLoss] != rows(unaugmented, split: "train", epoch: 1)[trainLoss])

        // The validation metrics written while training are what `eval` computes afterwards on
        // the validation images as they are, with the same (best) weights.
        let state = try JSONSerialization.jsonObject(with: try file(first, "state.json")) as? [String: Any]
        let best = try #require(state?["bestEpoch"] as? Int)
        let during = try rows(first, split: "valid", epoch: best)
        let evaluation = try run(["eval", first.path, "--split", "valid"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let after = String(decoding: try file(first, "evaluation.csv"), as: UTF8.self).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count == 6 && $0[4] == "ground_truth" }
        var compared = 0
        for fields in after {
            guard let written = during["\(fields[0]) \(fields[1])"], let value = Double(fields[2]) else { continue }
            #expect(abs(written - value) <= 1e-5 * max(1, abs(value)), "\(fields[0]) \(fields[1]): \(written) while training, \(value) in eval")
            compared += 1
        }
        #expect(compared > 20)
    }
}
