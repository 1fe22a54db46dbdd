import ArgumentParser
import FileFormats
import FlowSpec

/// The flow file argument shared by the commands that read one.
struct FlowOptions: ParsableArguments {
    @Argument(help: "The flow file (YAML) to read.", completion: .file(extensions: ["yaml", "yml"]))
    var flow: String

    /// The validated flow; throws every problem in the file (and with `checkingDataFiles`, each
    /// data file that is missing or cannot be read) as bad input.
    func load(checkingDataFiles: Bool = false) throws(CommandFailure) -> ResolvedFlow {
        do throws(Problem) {
            return try FlowLoader.load(path: flow, checkingDataFiles: checkingDataFiles)
        } catch {
            throw .badInput(error)
        }
    }
}
