import ArgumentParser
import Evaluation
import FileFormats
import Foundation
import Training

/// `flowtrain explain RUN_DIR`: the decision tree of each sample.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain the model's decisions on each sample as a tree.",
        discussion: """
            Per sample: each task's decision, activation and logits, under the task its \
            precondition names. A task whose precondition does not hold on the model's own \
            decisions is left out, with everything under it. Writes explanations.txt (or \
            explanations.json with --format json) in the run directory and shows the first \
            trees. See docs/commands/explain.md.
            """)

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var source: DataOptions

    @Option(help: "Data rows to explain, 0-based, comma-separated (e.g. 0,5,9).")
    var rows: String?

    @Option(help: "Explain the first N rows (default: all).")
    var limit: Int?

    @Option(help: "text or json.")
    var format: Format = .text

    /// Trees shown on standard output; the file has them all.
    static let shown = 10

    func validate() throws {
        if rows != nil, limit != nil { throw ValidationError("give --rows or --limit, not both") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let rows, parsedRows(rows) == nil {
            throw ValidationError("--rows must be 0-based row numbers separated by commas, e.g. 0,5,9; got '\(rows)'")
        }
    }

    private func parsedRows(_ text: String) -> [Int]? {
        let numbers = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !numbers.isEmpty, numbers.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return numbers.compactMap { $0 }
    }

    func run() throws {
        do {
            let trained = try runOptions.open()
            let (split, name) = try source.load(trained, labels: .ignored)
            // --rows name data rows (as predictions.csv does); find them in the split.
            var selected = Array(0..<split.rows)
            if let rows, let wanted = parsedRows(rows) {
                let index = Dictionary(split.sourceRows.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                let missing = wanted.filter { index[$0] == nil }
                guard missing.isEmpty else {
                    throw Problem(file: split.file, message: "has no row \(missing.map(String.init).joined(separator: ", ")) "
                                  + "in \(name) (data rows are 0-based)")
                }
                selected = wanted.compactMap { index[$0] }
            } else if let limit {
                selected = Array(selected.prefix(limit))
            }
            let (_, predictions) = try trained.predict(split)
            let explanation = Explanation(predictions, tree: trained.flow.tree)
            let samples = selected.map(explanation.sample)
            let file = format == .json ? "explanations.json" : "explanations.txt"
            let content = format == .json ? Explanation.json(samples) : Explanation.text(samples)
            if format == .json {
                print(content, terminator: "")
            } else {
                print(Explanation.text(Array(samples.prefix(Self.shown))), terminator: "")
                if samples.count > Self.shown {
                    print("… \(samples.count - Self.shown) more in \(trained.directory.path(file))")
                }
            }
            try trained.directory.write(file, Data(content.utf8))  // after printing: a read-only run still explains
        } catch {
            throw CommandFailure.badInput(error)
        }
    }
}
