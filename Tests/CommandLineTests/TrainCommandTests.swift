import Foundation
import Testing

/// `flowtrain datasets` then `flowtrain train` on small generated data, as a user runs them.
struct TrainCommandTests {
    @Test func trainsTheOrdersFlowAndWritesTheRunDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("datasets/orders")
        #expect(try run(["datasets", "orders", "--out", data.path, "--n", "2000"]).status == 0)
        // The shipped flow, pointed at the generated file.
        let flowText = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/orders.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../datasets/orders/orders.csv", with: data.appendingPathComponent("orders.csv").path)
        let flow = directory.appendingPathComponent("orders.yaml")
        try flowText.write(to: flow, atomically: true, encoding: .utf8)
        let runDirectory = directory.appendingPathComponent("run")
        let result = try run(["train", flow.path, "--epochs", "3", "--run-dir", runDirectory.path, "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == runDirectory.path + "\n")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: runDirectory.path))
        for name in ["flow.yaml", "model.safetensors", "model-last.safetensors", "state.json", "metrics.csv"] {
            #expect(files.contains(name), "\(name)")
        }
        #expect(files.contains { $0.hasPrefix("events.out.tfevents.") })
        let metrics = try String(contentsOf: runDirectory.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(metrics.first == "epoch,split,task_path,metric_name,value,num_samples")
        // Every task has a loss for each epoch and split; cancel_reason only counts cancelled orders.
        for epoch in 1...3 {
            for split in ["train", "valid"] {
                #expect(metrics.contains { $0.hasPrefix("\(epoch),\(split),delivery.delay_days,loss,") })
            }
        }
        let trainLosses = metrics.filter { $0.contains(",train,cancelled,loss,") }
            .map { Double($0.split(separator: ",")[4])! }
        #expect(trainLosses.count == 3 && trainLosses.last! < trainLosses.first!)
        #expect(result.stderr.contains("epoch 3/3"))
    }

    @Test func aMissingDataFileExitsOneWithItsPath() throws {
        let flow = try temporaryFlow("""
            name: t
            data: {train: /no/such/train.csv}
            inputs:
              x: {type: numeric, columns: [f1]}
            flow:
              a: {type: binary}
            """)
        let result = try run(["train", flow])
        #expect(result.status == 1)
        #expect(result.stderr == "/no/such/train.csv: no such file\n")
    }
}
