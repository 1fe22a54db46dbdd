import ArgumentParser
import Foundation
import ProcessGroups
import Search

/// `flowtrain search FLOW.yaml`: run the hyper-parameter search the flow's `search:` describes.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a flow's hyper-parameters: train trials of it and keep the best.",
        discussion: """
            Reads the flow's search: section (docs/flow-format.md), checks every parameter's path \
            against the flow, and trains each trial as a `flowtrain train` process into \
            DIR/trials/<n>/, --parallel at a time, the threads shared between them. Under asha a \
            trial stops at each rung (min_epochs·η^k epochs) unless it is among the best 1/η there, \
            and a promoted trial continues from its checkpoint; random and grid train every trial \
            to the end. Writes DIR/trials.csv as it goes, then DIR/best.yaml (the best trial's \
            flow) and DIR/search.html; progress on standard error, DIR on standard output. A \
            trial whose values make the flow invalid, or whose training fails, is recorded as \
            failed and the search goes on. See docs/commands/search.md.

            Ctrl-C (or SIGTERM) stops the trials running, each with a checkpoint; `--resume` \
            continues a stopped or killed search and repeats no finished job. Under mpirun the \
            trials are shared out between the processes.
            """)

    @OptionGroup var options: FlowOptions

    @Option(help: "Trials to run, instead of the flow's search.trials.")
    var trials: Int?

    @Option(help: "Trials to train at a time.")
    var parallel = 1

    @Option(help: "Seed of the trials' values, instead of the flow's search.seed.")
    var seed: Int?

    @Option(help: "The search directory to write: new or empty (default: runs/<flow name>-search/<YYYYmmdd-HHMMSS> under the current directory).")
    var runDir: String?

    @OptionGroup var threads: ThreadOptions

    @Flag(help: "Continue the search in --run-dir (after Ctrl-C, a kill or a crash).")
    var resume = false

    func validate() throws {
        if let trials, !(1...100_000).contains(trials) { throw ValidationError("--trials must be 1 to 100000") }
        if !(1...1024).contains(parallel) { throw ValidationError("--parallel must be 1 to 1024") }
        if let seed, !(0...Int(UInt32.max)).contains(seed) { throw ValidationError("--seed must be 0 to \(UInt32.max)") }
        if resume, runDir == nil { throw ValidationError("--resume needs --run-dir: the search directory to continue") }
        // Each process would otherwise make a directory of its own, named by the second it started.
        if ProcessLaunch.isUnderMPI, runDir == nil {
            throw ValidationError("under mpirun, --run-dir names the directory every process of the search writes to")
        }
        if let runDir, runDir.allSatisfy(\.isWhitespace) {
            throw ValidationError("--run-dir is empty (an unset shell variable?); give a directory, "
                                  + "or leave --run-dir out to write runs/<flow name>-search/<time>")
        }
    }

    func run() throws {
        let processes = ProcessLaunch.group()
        let flow = try options.load()
        let executable = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
        let prefix = processes.size > 1 ? "process \(processes.rank): " : ""
        let search: HyperparameterSearch
        do {
            search = try HyperparameterSearch(
                flow, .init(runDirectory: runDir, trials: trials, parallel: parallel, seed: seed,
                            threads: threads.count, resume: resume, executable: executable),
                processes: processes, shouldStop: { Interruption.wasRequested }, report: { CommandOutput.error(prefix + $0) })
        } catch {
            throw CommandFailure.badInput(error)
        }
        // Alone only: mpirun passes a signal on to every process, which stop each at their own pace.
        if processes.size == 1 { Interruption.catchFirstSignal() }
        let outcome: HyperparameterSearch.Outcome
        do { outcome = try search.run() } catch {
            throw CommandFailure(message: String(describing: error), status: .runFailed)
        }
        let directory = search.directory.run.url.path
        switch outcome {
        case .interrupted:
            throw CommandFailure(message: "stopped; the trials that were training kept checkpoints; continue with:\n"
                                 + "  flowtrain search \(options.flow) --run-dir \(directory) --resume",
                                 status: ExitCode(Interruption.exitStatus))
        case .finished(let best):
            guard processes.isFirst else { return }
            print(directory)
            if best == nil {
                throw CommandFailure(message: "no trial trained every epoch; \(directory)/trials.csv says why", status: .runFailed)
            }
        }
    }
}
