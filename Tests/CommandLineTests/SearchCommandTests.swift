import Foundation
import Testing

/// `flowtrain search` on the small tabular flow: what it writes, a failing trial, and a search
/// killed with SIGKILL and resumed.
struct SearchCommandTests {
    /// The fixture's flow with `epochs` and a `search:` section.
    static func flow(in directory: URL, epochs: Int = 9, search: String) throws -> String {
        let flow = try TabularRunFixture.write(in: directory, train: "epochs: \(epochs), schedule: cosine")
        try (String(contentsOf: flow, encoding: .utf8) + "\nsearch:\n" + search).write(to: flow, atomically: true, encoding: .utf8)
        return flow.path
    }

    /// trials.csv's rows by column name.
    static func ledger(_ directory: URL) throws -> [[String: String]] {
        let rows = csvRows(try String(contentsOf: directory.appendingPathComponent("trials.csv"), encoding: .utf8))
        guard let header = rows.first else { return [] }
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// RFC 4180 fields: quoted ones may hold commas, doubled quotes and line ends.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = text.makeIterator()
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    guard let next = characters.next() else { quoted = false; break }
                    if next == "\"" { field.append("\"") } else {
                        quoted = false
                        if next == "," { row.append(field); field = "" } else if next == "\n" { row.append(field); rows.append(row); row = []; field = "" }
                    }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { row.append(field); field = "" } else if c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    @Test func ashaWritesTheTrialsTheBestFlowAndThePage() throws {
        let directory = try scratchDirectory()
        let flow = try Self.flow(in: directory, search: """
              algorithm: asha
              trials: 9
              parameters:
                train.optimizer.lr: {loguniform: [1.0e-3, 1.0e-1]}
                trunk.t.layers.0.dense: {choice: [4, 8, 16]}
            """)
        let out = directory.appendingPathComponent("search")
        let result = try run(["search", flow, "--run-dir", out.path, "--parallel", "2", "--threads", "2"], deadline: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == out.path + "\n")
        #expect(result.stderr.contains("rungs after 1, 3 and 9 epochs (η 3)"), "\(result.stderr)")
        let rows = try Self.ledger(out)
        #expect(rows.map { $0["trial"] } == (1...9).map(String.init))
        // 9 trials, the best 3 after 1 epoch (at least: two workers promote on the results so far) to 3,
        // the best of those to 9.
        #expect(rows.filter { $0["status"] == "completed" }.count >= 1)
        #expect(rows.filter { $0["valid.loss@3"] != "" }.count >= 3)
        #expect(rows.allSatisfy { $0["status"] == "completed" || $0["status"] == "stopped" })
        for row in rows {
            let epochs = try #require(Int(row["epochs"] ?? ""))
            #expect([1, 3, 9].contains(epochs))
            // Each trial is an ordinary run, trained as far as its last rung, its schedule laid out for 9 epochs.
            let state = try String(contentsOf: out.appendingPathComponent("trials/\(row["trial"] ?? "")/state.json"), encoding: .utf8)
            #expect(state.contains("\"epochsDone\" : \(epochs)"))
        }
        // Two workers may take more than one trial to the end: the best is the lowest of them.
        let best = try #require(rows.filter { $0["status"] == "completed" }
            .min { Double($0["valid.loss@9"] ?? "") ?? .infinity < Double($1["valid.loss@9"] ?? "") ?? .infinity })
        let bestYAML = out.appendingPathComponent("best.yaml").path
        let text = try String(contentsOfFile: bestYAML, encoding: .utf8)
        #expect(text.contains("lr: \(best["train.optimizer.lr"] ?? "")"), "\(text)")
        #expect(text.contains("dense: {units: \(best["trunk.t.layers.0.dense"] ?? ""), bias: true}"), "\(text)")
        #expect(try run(["check", bestYAML]).status == 0)
        let page = try String(contentsOf: out.appendingPathComponent("search.html"), encoding: .utf8)
        #expect(page.contains("<h2>Best trial: \(best["trial"] ?? "")</h2>"))
        #expect(page.components(separatedBy: "<figure><svg").count - 1 == 4)  // two parameters, the parallel coordinates, the curves

        // The same seed draws the same trials.
        let again = directory.appendingPathComponent("again")
        #expect(try run(["search", flow, "--run-dir", again.path, "--trials", "3"], deadline: 300).status == 0)
        let first = try Self.ledger(again).map { [$0["train.optimizer.lr"], $0["trunk.t.layers.0.dense"]] }
        #expect(first == rows.prefix(3).map { [$0["train.optimizer.lr"], $0["trunk.t.layers.0.dense"]] })
    }

    /// A value that makes the flow invalid (a layer of 0 units), and one that makes training fail
    /// (a column the data does not have): each fails its own trial, recorded, and the search goes on.
    @Test func aFailingTrialIsRecordedAsFailed() throws {
        let directory = try scratchDirectory()
        let flow = try Self.flow(in: directory, epochs: 2, search: """
              algorithm: grid
              parameters:
                trunk.t.layers.0.dense: {choice: [8, 0]}
                inputs.x.columns: {choice: [[a, b], [a, zz]]}
            """)
        let out = directory.appendingPathComponent("search")
        let result = try run(["search", flow, "--run-dir", out.path], deadline: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.ledger(out)
        #expect(rows.map { $0["status"] } == ["completed", "failed", "failed", "failed"], "\(rows)")
        #expect(rows[1]["note"]?.contains("'zz'") == true && rows[1]["note"]?.hasSuffix("(exit status 2)") == true, "\(rows[1])")
        // The invalid flow is located in the trial's flow file.
        #expect(rows[2]["note"]?.hasPrefix("\(out.path)/flows/3.yaml:") == true, "\(rows[2])")
        #expect(rows[2]["note"]?.contains("out of range") == true, "\(rows[2])")
        #expect(result.stderr.contains("trial 2 failed: "))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("best.yaml").path))

        // Every trial failing fails the search.
        let none = try Self.flow(in: directory, epochs: 2, search: """
              parameters:
                trunk.t.layers.0.dense: {choice: [0]}
            """)
        let failed = try run(["search", none, "--run-dir", directory.appendingPathComponent("none").path, "--trials", "2"],
                             deadline: 300)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("no trial trained every epoch"), "\(failed.stderr)")
    }

    /// A bad path is bad input, located, before anything runs.
    @Test func aBadPathIsLocatedAndNothingRuns() throws {
        let directory = try scratchDirectory()
        let flow = try Self.flow(in: directory, search: """
              parameters:
                train.optimiser.lr: {loguniform: [1.0e-3, 1.0e-1]}
            """)
        let out = directory.appendingPathComponent("search")
        let result = try run(["search", flow, "--run-dir", out.path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("\(flow):15:5: search.parameters: 'train.optimiser.lr': 'train' has no key 'optimiser' "
                                        + "(did you mean 'optimizer'?)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Killed at once (SIGKILL: no chance to stop its trials), the search is resumed: the trial
    /// that was training stops itself with a checkpoint and continues from it, and no finished
    /// trial trains again.
    @Test func aSearchKilledAndResumedRepeatsNoFinishedTrial() throws {
        let directory = try scratchDirectory()
        let flow = try Self.flow(in: directory, epochs: 40, search: """
              trials: 6
              parameters:
                train.optimizer.lr: {loguniform: [1.0e-3, 1.0e-1]}
            """)
        let out = directory.appendingPathComponent("search")
        let arguments = ["search", flow, "--run-dir", out.path, "--threads", "1"]
        let process = Process()
        process.executableURL = flowtrainBinary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(240)
        var finished: [String] = []
        while finished.count < 2 {
            guard Date() < deadline, process.isRunning else { break }
            usleep(20_000)
            finished = ((try? Self.ledger(out)) ?? []).filter { $0["status"] == "completed" }.compactMap { $0["trial"] }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the search ended before it could be killed")
        let atKill = try Self.ledger(out)
        finished = atKill.filter { $0["status"] == "completed" }.compactMap { $0["trial"] }
        #expect(finished.count >= 2)

        let resumed = try run(arguments + ["--resume"], deadline: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains(", resuming"))
        let rows = try Self.ledger(out)
        #expect(rows.count == 6 && rows.allSatisfy { $0["status"] == "completed" && $0["epochs"] == "40" }, "\(rows)")
        for trial in 1...6 {
            let log = try String(contentsOf: out.appendingPathComponent("logs/\(trial).log"), encoding: .utf8)
            let starts = log.components(separatedBy: "training tabular:").count - 1
            if finished.contains(String(trial)) {
                #expect(starts == 1, "trial \(trial), finished before the kill, trained again:\n\(log)")
                #expect(!resumed.stderr.contains("trial \(trial) "))
            } else if atKill.first(where: { $0["trial"] == String(trial) })?["status"] == "running" {
                // The job it was training runs first, on its run's checkpoint when it has one.
                #expect(resumed.stderr.contains("trial \(trial) resumed: continues to epoch 40"), "\(resumed.stderr)")
            } else {
                #expect(resumed.stderr.contains("trial \(trial) started: "))
            }
        }
        // The finished trials' values and objectives are as the killed search recorded them.
        for row in atKill where finished.contains(row["trial"] ?? "") {
            #expect(rows.first { $0["trial"] == row["trial"] } == row)
        }
    }
}
