import ArgumentParser
import FlowSpec

/// `flowtrain check FLOW.yaml`: validate a flow and print its resolved task tree.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a flow file and print its resolved tree.",
        discussion: """
            Prints every input, each trunk layer with its output shape and parameter count, and \
            each task with its path, type, composed precondition, input and head. Counts that \
            depend on the data (classes not listed, column globs) are shown as formulas. The \
            data files are looked for but not read. Exits 0 when the flow is valid and its data \
            files are there, and 2, with every problem located, when not.
            """)

    /// The output formats of `check`.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var options: FlowOptions

    @Option(help: "Output format.")
    var format: Format = .text

    func run() throws {
        let flow = try options.load(checkingDataFiles: true)
        switch format {
        case .text: print(FlowSummary(flow).text, terminator: "")
        case .json: print(FlowSummary(flow).json)
        }
    }
}
