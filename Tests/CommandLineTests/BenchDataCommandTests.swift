import Foundation
import Testing

/// `flowtrain bench FLOW --data`: reading the flow's files phase by phase, then real epochs with
/// where their time went.
struct BenchDataCommandTests {
    @Test func dataPhasesAndEpochSplits() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: benchdata
            data: {train: train.csv, valid: valid.csv}
            inputs:
              x: {type: numeric, columns: [a, b]}
              kind: {type: category, encoding: one_hot}
            trunk:
              joined: {from: [x, kind], layers: [dense: 4, relu]}
            flow:
              open: {type: binary}
              size: {type: regression, when: open}
            train: {epochs: 5, batch_size: 8}
            """, "flow.yaml", in: directory)
        var train = "a,b,kind,open,size\n"
        for row in 0..<64 { train += "\(row % 7),\(row % 3),\(["p", "q"][row % 2]),\(row % 2),\(Double(row) / 8)\n" }
        try write(train, "train.csv", in: directory)
        try write("a,b,kind,open,size\n1,2,p,1,0.5\n3,1,q,0,\n", "valid.csv", in: directory)
        let before = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("flowtrain-bench-") }

        let result = try run(["bench", directory.appendingPathComponent("flow.yaml").path, "--batch", "8", "--steps", "1",
                              "--repeats", "3", "--threads", "1", "--data", "--data-epochs", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let bytes = train.utf8.count + "a,b,kind,open,size\n1,2,p,1,0.5\n3,1,q,0,\n".utf8.count
        let data = try #require(lines.first { $0.hasPrefix("data: ") }, "\(result.stdout)")
        #expect(data.hasPrefix("data: \(String(format: "%.1f MB", Double(bytes) / 1_048_576)) read in "))
        #expect(data.contains("split ") && data.contains("statistics ") && data.contains("encode "))

        // One line per epoch (not the flow's 5), each part a share of the epoch, together 100%.
        let epochs = lines.filter { $0.hasPrefix("epoch ") }
        #expect(epochs.map { String($0.prefix(8)) } == ["epoch 1:", "epoch 2:", "epoch 3:"])
        for line in epochs {
            let shares = line.matches(of: /\((\d+)%\)/).map { Int($0.1)! }
            #expect(shares.count == 7, "\(line)")
            #expect((97...103).contains(shares.reduce(0, +)), "\(line)")  // each share rounded on its own
            #expect(line.contains("steps ") && line.contains("validation ") && line.contains("saving "))
        }
        // The scratch run directory is gone.
        let after = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("flowtrain-bench-") }
        #expect(Set(after).subtracting(before).isEmpty)
    }
}
