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

    func checkpoint(_ run: RunDirectory, resume: Bool, epochs: Int? = nil) throws -> Checkpoint? {
        try ResumePolicy.checkpoint(in: run, resume: resume, flowText: Self.flowText, flowFile: "tiny.yaml",
                                    epochs: epochs, seed: nil)
    }

    /// The refusal `body` throws, or nil when it throws none.
    func refusal(_ body: () throws -> Void) -> UnusableRunDirectory? {
        do {
            try body()
        } catch let refusal as UnusableRunDirectory {
            return refusal
        } catch {
            Issue.record("not a refusal: \(error)")
        }
        return nil
    }

    @Test func anEmptyDirectoryStartsARun() throws {
        let run = try directory([".lock": ""])  // a training stopped before it wrote flow.yaml
        defer { try? FileManager.default.removeItem(at: run.url) }
        #expect(refusal { try ResumePolicy.checkWritable(run, resume: false) } == nil)
        #expect(try checkpoint(run, resume: false) == nil)
    }

    @Test func aDirectoryWithOtherFilesIsRefusedUnlessResuming() throws {
        let run = try directory(["notes.txt": "mine"])
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { try ResumePolicy.checkWritable(run, resume: false) }
        #expect(refused == .holdsOtherFiles(directory: run.url.path))
        #expect(refused?.problem.location == .init(file: run.url.path))
        #expect(refused?.problem.message.hasPrefix("is not empty and holds no run;") == true, "\(String(describing: refused))")
        // --resume gets past the first check to be told there is nothing to resume.
        #expect(refusal { try ResumePolicy.checkWritable(run, resume: true) } == nil)
        let nothing = refusal { _ = try checkpoint(run, resume: true) }
        #expect(nothing == .noRunToResume(directory: run.url.path))
        #expect(nothing?.description == "\(run.url.path): holds no run to resume; train without --resume to start one")
    }

    @Test func aRunIsContinuedOnlyWhenAsked() throws {
        let run = try startedRun()
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { _ = try checkpoint(run, resume: false) }
        #expect(refused?.description == "\(run.url.path): holds a run already; add --resume to continue it, or choose another --run-dir")
        // Stopped before its first checkpoint: it starts again at epoch 1, whatever the epochs.
        #expect(try checkpoint(run, resume: true, epochs: 7) == nil)
    }

    @Test func aRunResumesOnlyWithTheFlowItStartedWith() throws {
        let run = try startedRun(flow: "name: other\n")
        defer { try? FileManager.default.removeItem(at: run.url) }
        let refused = refusal { _ = try checkpoint(run, resume: true) }
        #expect(refused == .flowDiffers(flowYAML: run.path("flow.yaml"), flowFile: "tiny.yaml"))
        #expect(refused?.problem.location?.file == run.path("flow.yaml"))
        #expect(refused?.problem.message.hasPrefix("differs from tiny.yaml: a run resumes with the flow it was started with") == true)
    }
}
