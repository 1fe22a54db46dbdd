import Foundation
import Testing

/// `flowtrain datasets` then `flowtrain train` on small generated data, as a user runs them.
struct TrainCommandTests {
    @Test func trainsTheOrdersFlowAndWritesTheRunDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // The shipped flow, pointed at generated files.
        let flow = try smallOrdersFlow(in: directory, rows: 2000)
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

        // The same seed at one thread trains to the same numbers, bit for bit.
        let rerun = directory.appendingPathComponent("rerun")
        #expect(try run(["train", flow.path, "--epochs", "3", "--run-dir", rerun.path, "--threads", "1"]).status == 0)
        #expect(try String(contentsOf: rerun.appendingPathComponent("metrics.csv"), encoding: .utf8)
                == metrics.joined(separator: "\n") + "\n")

        // eval reads the run directory alone.
        let evaluation = try run(["eval", runDirectory.path, "--split", "test"])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let lines = try String(contentsOf: runDirectory.appendingPathComponent("evaluation.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(lines.first == "task_path,metric_name,metric_res,num_samples,preconditions,split")
        for view in ["ground_truth", "predicted"] {
            #expect(lines.contains { $0.hasPrefix("cancelled,accuracy,") && $0.hasSuffix(",\(view),test") })
            #expect(lines.contains { $0.hasPrefix("delivery.delay_days,mean_absolute_error,") && $0.hasSuffix(",\(view),test") })
        }
        #expect(evaluation.stdout.split(separator: "\n").count == lines.count)
    }

    @Test func evalOfADirectoryThatIsNotARunExitsTwo() throws {
        let result = try run(["eval", FileManager.default.temporaryDirectory.path])
        #expect(result.status == 2)
        #expect(result.stderr == "\(FileManager.default.temporaryDirectory.path): is not a flowtrain run: it has no state.json\n")
    }
}
