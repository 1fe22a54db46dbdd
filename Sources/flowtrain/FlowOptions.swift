import ArgumentParser
import FlowSpec

/// The flow file argument shared by the commands that read one.
struct FlowOptions: ParsableArguments {
    @Argument(help: "The flow file (YAML) to read.", completion: .file(extensions: ["yaml", "yml"]))
    var flow: String

    /// The validated flow; throws every problem in the file (and with `checkingDataFiles`, each
    /// data file that is missing or cannot be read).
    func load(checkingDataFiles: Bool = false) throws -> ResolvedFlow {
        try FlowLoader.load(path: flow, checkingDataFiles: checkingDataFiles)
    }
}
