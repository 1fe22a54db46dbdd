import Foundation
import Testing

/// `train` with `diagnostics:` on writes the layer statistics, the worst samples, their heat map,
/// the TensorBoard tags and the report section; with it off, none of them.
struct DiagnosticsCommandTests {
    /// 40 rows, two features, a binary and a regression task on one small trunk.
    func train(diagnostics: String?) throws -> (directory: URL, run: URL) {
        let directory = try scratchDirectory()
        try write("""
            name: diagnosed
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1, f2]}
            trunk:
              b: {from: x, layers: [dense: 8, relu]}
            flow:
              a: {type: binary}
              size: {type: regression}
            train:
              epochs: 3
              batch_size: 8
            """ + (diagnostics.map { "\n  diagnostics: \($0)\n" } ?? "\n"), "flow.yaml", in: directory)
        var csv = "f1,f2,a,size\n"
        for row in 0..<40 { csv += "\(row % 7),\(row % 5 - 2),\(row % 3 == 0 ? 1 : 0),\(Double(row) / 4)\n" }
        try write(csv, "train.csv", in: directory)
        let runDirectory = directory.appendingPathComponent("run")
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir", runDirectory.path,
                              "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        return (directory, runDirectory)
    }

    func text(_ run: URL, _ name: String) throws -> String {
        try String(contentsOf: run.appendingPathComponent(name), encoding: .utf8)
    }

    func events(_ run: URL) throws -> String {
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: run.path)
            .first { $0.hasPrefix("events.out.tfevents.") })
        return String(decoding: try Data(contentsOf: run.appendingPathComponent(name)), as: UTF8.self)
    }

    @Test func diagnosticsOnWriteTheirFilesTagsAndReportSection() throws {
        let (directory, run) = try train(diagnostics: "{worst_samples: 3}")
        defer { try? FileManager.default.removeItem(at: directory) }

        let layers = try text(run, "diagnostics.csv").split(separator: "\n").map(String.init)
        #expect(layers.first == "epoch,layer,statistic,value")
        // Three layers, six statistics each, three epochs.
        #expect(layers.count == 1 + 3 * 3 * 6)
        for layer in ["trunk.b.0.dense", "heads.a.out", "heads.size.out"] {
            for statistic in ["activation_mean", "activation_std", "zero_fraction", "gradient_norm", "weight_norm",
                              "update_ratio"] {
                #expect(layers.contains { $0.hasPrefix("3,\(layer),\(statistic),") }, "\(layer) \(statistic)")
            }
        }

        let worst = try text(run, "worst_samples.csv").split(separator: "\n").map(String.init)
        #expect(worst.first == "epoch,task_path,rank,row,loss")
        for epoch in 1...3 {
            for task in ["a", "size"] {
                #expect(worst.filter { $0.hasPrefix("\(epoch),\(task),") && !$0.hasPrefix("\(epoch),\(task),,") }.count == 3)
            }
        }
        let svg = try text(run, "worst_samples.svg")
        #expect(svg.hasPrefix("<svg") && svg.contains("row "))

        let tags = try events(run)
        for tag in ["diagnostics/trunk.b.0.dense/update_ratio", "diagnostics/heads.a.out/zero_fraction",
                    "diagnostics/trunk.b.0.dense/activations", "diagnostics/trunk.b.0.dense/weights",
                    "diagnostics/heads.size.out/gradients"] {
            #expect(tags.contains(tag), "\(tag)")
        }
        let report = try text(run, "report.html")
        #expect(report.contains("Training diagnostics — epoch 3") && report.contains("Worst training samples by epoch"))
    }

    @Test func diagnosticsOffWriteNothingOfThem() throws {
        let (directory, run) = try train(diagnostics: nil)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: run.path))
        #expect(files.contains("metrics.csv"))
        for name in ["diagnostics.csv", "worst_samples.csv", "worst_samples.svg"] { #expect(!files.contains(name), "\(name)") }
        #expect(!(try events(run)).contains("diagnostics/"))
        #expect(!(try text(run, "report.html")).contains("Training diagnostics"))
    }
}
