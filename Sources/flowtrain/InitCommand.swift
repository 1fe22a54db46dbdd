import ArgumentParser
import FileFormats
import FlowInference
import FlowSpec
import Foundation

/// `flowtrain init DATA.csv --targets COLUMNS`: write a flow for the user's own CSV.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a flow for your own CSV: inputs, tasks and preconditions inferred from the data.",
        discussion: """
            Reads the first CSV file (the training rows) and writes a commented flow: every \
            column not named by --targets becomes an input (numbers, categories, image paths, \
            text; IDs and constant columns are left out, with a comment saying why), every \
            target a task (binary, classification, multilabel, bounded_regression, regression), \
            dotted column names nested flows, and a target whose labels are present only where \
            another target has one value gets that value as its `when:`, with the evidence in a \
            comment. The written flow is checked as `flowtrain check` checks it. One file is \
            split 80/10/10 by a seeded shuffle; two or three are train, valid and test. \
            docs/commands/init.md has every rule.
            """)

    @Argument(help: ArgumentHelp("The CSV files: one, or train, valid and test.", valueName: "data.csv"))
    var data: [String]

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("The label columns: names, globs (\"box_*\") or dotted prefixes (delivery takes delivery.*).",
                               valueName: "column"))
    var targets: [String]

    @Option(help: ArgumentHelp("Write the flow here (data paths relative to it) instead of to standard output.",
                               valueName: "flow.yaml"))
    var out: String?

    @Flag(help: "Replace --out if it exists.")
    var force = false

    @Option(help: ArgumentHelp("The directory the CSV's image paths lead from (default: the CSV file's).", valueName: "dir"))
    var imagesRelativeTo: String?

    func validate() throws {
        if data.count > 3 { throw ValidationError("give one CSV file, or train, valid and test: \(data.count) were given") }
        if targets.isEmpty { throw ValidationError("--targets needs at least one column") }
    }

    func run() throws {
        if let out, !force, FileManager.default.fileExists(atPath: out) {
            throw CommandFailure(message: "\(out) exists; --force replaces it", status: .badInput)
        }
        let draft: FlowDraft
        do {
            draft = try FlowDraft.infer(.init(data: data, targets: targets, flowFile: out, imagesRelativeTo: imagesRelativeTo))
            // What init writes passes `check`; a flow it could not express is its own failure, said as such.
            _ = try FlowLoader.load(bytes: Array(draft.yaml.utf8), file: out ?? "<standard output>")
        } catch {
            throw CommandFailure.badInput(error)
        }
        for decision in draft.decisions { CommandOutput.error(decision) }
        guard let out else { return print(draft.yaml, terminator: "") }
        do {
            try DurableFile.write(Data(draft.yaml.utf8), to: out)
        } catch {
            throw CommandFailure(message: "cannot write \(out): \(error)", status: .runFailed)
        }
        CommandOutput.error("wrote \(out); next: flowtrain train \(out)")
    }
}
