import ArgumentParser
import Evaluation
import Foundation
import Report

/// `flowtrain embed RUN_DIR --data CSV`: a trunk branch's output for every row.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write a trunk branch's output (the features its heads read) for the rows of a CSV file.",
        discussion: """
            Runs the model in evaluation mode and writes, per row, the output of --branch (default: \
            the trunk's last branch), flattened: embeddings for search or clustering, or the \
            features of a frozen backbone to compare with another framework's. Writes \
            embeddings-<branch>-<data file name>.csv in the run directory, or --out. See \
            docs/commands/embed.md.
            """)

    @OptionGroup var runOptions: RunOptions

    @Option(help: "The CSV file with the flow's input columns.", completion: .file(extensions: ["csv"]))
    var data: String

    @Option(help: "The trunk branch whose output to write (default: the trunk's last branch).")
    var branch: String?

    @Option(help: "Where to write (default: RUN_DIR/embeddings-<branch>-<data file name>.csv; - for standard output).")
    var out: String?

    func run() throws {
        do {
            let trained = try runOptions.open()
            let outputs = try trained.branchOutputs(try trained.data(file: data, labels: .ignored), branch: branch)
            let csv = outputs.csv()
            if out == "-" {
                print(csv.text, terminator: "")
            } else {
                let name = URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
                let path = out ?? trained.directory.path("embeddings-\(Interpretation.safeName(outputs.branch))-"
                                                         + "\(Interpretation.safeName(name)).csv")
                try csv.write(to: path)
                CommandOutput.error("wrote \(outputs.split.rows) rows of \(outputs.width) values to \(path)")
            }
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}
