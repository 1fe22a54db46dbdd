import FileFormats
import Foundation
import Testing
import Training

/// Which run directories `train` writes into and when it resumes, decided before any data is
/// trained on: each refusal located at the directory (or its flow.yaml), with the way forward.
struct ResumePolicyTests {
    static let flowText = "name: tiny\n"

    /// A fresh directory holding `files` (name → contents).
    func directory(_ files: [String: String] = [:]) throws -> RunDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return RunDirectory(url: url)
    }

    /// The run a training left after its first epoch's state but before any checkpoint.
    func startedRun(flow: String = Self.flowText) throws -> RunDirectory {
        try directory(["flow.yaml": flow, "state.json": "{}"])
    }

    func checkpoint(_ run: RunDirectory, resume: Bool, epochs: Int? = nil) throws(Problem) -> Checkpoint? {
        try ResumePolicy.checkpoint(in: run, resume: resume, flowText: Self.flowText, flowFile: "tiny.yaml",
                                    epochs: epochs, seed: nil)
    }

    /// The message of the refusal `body` throws, or nil when it throws none.
    func refusal(_ body: () throws(Problem) -> Void) -> Problem? {
        do throws(Problem) { try body() } catch { return error }
        return nil
    }

    @Test func anEmptyDirectoryStartsARun() throws {
        let run = try directory([".lock": ""])  // a training stopped before it wrote flow.yaml
        defer { try? FileManager.default.removeItem(at: run.url) }
        #expect(refusal { () throws(Problem) in try ResumePolicy.checkWritable(run, resume: false) } == nil)
        #expect(try checkpoint(run, resume: false) == nil)
    }

    @Test func aDirectoryWithOtherFilesIsRefusedUnlessResuming() throws {
        let run = try directory(["notes.txt": "mine"])
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { () throws(Problem) in try ResumePolicy.checkWritable(run, resume: false) }
        #expect(refused?.location?.file == run.url.path)
        #expect(refused?.message.hasPrefix("is not empty and holds no run;") == true, "\(String(describing: refused))")
        // --resume gets past the first check to be told there is nothing to resume.
        #expect(refusal { () throws(Problem) in try ResumePolicy.checkWritable(run, resume: true) } == nil)
        let nothing = refusal { () throws(Problem) in _ = try checkpoint(run, resume: true) }
        #expect(nothing?.message == "holds no run to resume; train without --resume to start one")
    }

    @Test func aRunIsContinuedOnlyWhenAsked() throws {
        let run = try startedRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { () throws(Problem) in _ = try checkpoint(run, resume: false) }
        #expect(refused?.message == "holds a run already; add --resume to continue it, or choose another --run-dir")
        // Stopped before its first checkpoint: it starts again at epoch 1, whatever the epochs.
        #expect(try checkpoint(run, resume: true, epochs: 7) == nil)
    }

    @Test func aRunResumesOnlyWithTheFlowItStartedWith() throws {
        let run = try startedRun(flow: "name: other\n")
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { () throws(Problem) in _ = try checkpoint(run, resume: true) }
        #expect(refused?.location?.file == run.path("flow.yaml"))
        #expect(refused?.message.hasPrefix("differs from tiny.yaml: a run resumes with the flow it was started with") == true)
    }
}
