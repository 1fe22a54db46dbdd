import FileFormats
import FlowSpec
import Foundation

/// A flow written from the user's own CSV by `flowtrain init`: input types from the columns'
/// values, task types from the label columns' values, nested flows from dotted column names,
/// and preconditions from which labels are missing together (`PreconditionInference`); a trunk
/// and a training block of the kind the shipped flows use for such inputs. Every choice is
/// explained in a comment beside it, so the user reads why before training.
public struct FlowDraft {
    /// What `init` is asked for.
    public struct Request {
        /// The CSV files: one (split by a seeded shuffle), or train, valid and test.
        public var data: [String]
        /// `--targets`: label columns by name, glob or dotted prefix.
        public var targets: [String]
        /// Where the flow will be written (data paths are written relative to its directory);
        /// nil for standard output (paths relative to the current directory).
        public var flowFile: String?
        /// Where the image paths in the CSV lead from; by default the CSV's directory, as
        /// `train` reads them.
        public var imagesRelativeTo: String?

        public init(data: [String], targets: [String], flowFile: String?, imagesRelativeTo: String? = nil) {
            (self.data, self.targets, self.flowFile, self.imagesRelativeTo) = (data, targets, flowFile, imagesRelativeTo)
        }
    }

    /// The flow file's text.
    public let yaml: String
    /// One line per decision (inputs, tasks, conditions, columns left out), for standard error.
    public let decisions: [String]

    public static func infer(_ request: Request) throws(Problem) -> FlowDraft {
        guard let trainFile = request.data.first else { throw Problem(message: "no CSV file given") }
        let table = try CSVTable.read(path: trainFile)
        guard table.rowCount > 0 else { throw Problem(file: trainFile, message: "the file has a header and no rows") }
        let targetColumns = try TargetSelection.columns(request.targets, header: table.header, file: trainFile)
        try checkPaths(targetColumns.map { table.header[$0] }, file: trainFile)

        // Inputs: an empty cell is the only hole an input has (numeric inputs impute it).
        let imageDirectory = request.imagesRelativeTo ?? (trainFile as NSString).deletingLastPathComponent
        var inputs: [(profile: ColumnProfile, guess: InputGuess)] = []
        for column in table.header.indices where !targetColumns.contains(column) {
            let profile = ColumnProfile(table, column: column, missing: [""])
            let guess = try InputGuess.guess(profile) { (path: String) throws(Problem) in
                try imageShape(path, directory: imageDirectory, table: table, column: column)
            }
            inputs.append((profile, guess))
        }
        if inputs.allSatisfy({ if case .leftOut = $0.guess { true } else { false } }) {
            throw Problem(message: "no column is left to be an input: "
                          + (inputs.isEmpty ? "every column is a target" : inputs.map { "\($0.profile.name) is left out" }.joined(separator: ", ")),
                          at: .init(file: trainFile, line: 1), hint: "a flow needs at least one input column besides the targets")
        }
        let imageSide = inputs.compactMap { input -> Int? in
            if case let .image(h, w, _) = input.guess { return max(h, w) } else { return nil }
        }.max()

        // Targets: the default missing markers, which the written flow keeps.
        let markers = Set(["", "NA", "NaN", "null"])
        var tasks: [DraftTask] = []
        for column in targetColumns {
            let profile = ColumnProfile(table, column: column, missing: markers)
            tasks.append(DraftTask(path: table.header[column], profile: profile,
                                   guess: try TaskGuess(profile, table: table, imageSide: imageSide)))
        }
        let tree = DraftTree(tasks: tasks)
        let written = DraftWriter(request: request, table: table, inputs: inputs, tree: tree)
        return FlowDraft(yaml: written.text, decisions: written.decisions)
    }

    /// Every target's path must read as a task path: names (letters, digits, `_`) joined by
    /// dots, and no target a nested flow of another.
    private static func checkPaths(_ paths: [String], file: String) throws(Problem) {
        for path in paths {
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if let bad = parts.first(where: { !Identifier.isValid($0) }) {
                throw Problem(message: parts.count == 1 ? "'\(bad)' is not a task name" : "'\(bad)' in '\(path)' is not a task name", at: .init(file: file, line: 1, columnName: path),
                              hint: "a task's path is its label column: rename the column to letters, digits and _, with dots between nested flows")
            }
            if let inner = paths.first(where: { $0.hasPrefix(path + ".") }) {
                throw Problem(message: "'\(path)' is a target and the nested flow of '\(inner)'", at: .init(file: file, line: 1, columnName: path),
                              hint: "rename one of them: a name is a task or a nested flow, not both")
            }
        }
    }

    /// The shape of the first image a column names (PNG or JPEG), read from its header.
    private static func imageShape(_ path: String, directory: String, table: CSVTable, column: Int) throws(Problem)
        -> (height: Int, width: Int, channels: Int) {
        let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        do {
            return try ImageFile.shape(path: full)
        } catch {
            var problem = error
            problem.hint = problem.hint ?? "image paths are read relative to the CSV file's directory; --images-relative-to names another"
            throw problem
        }
    }
}

/// A target and what `init` made of it.
struct DraftTask {
    let path: String
    let profile: ColumnProfile
    let guess: TaskGuess

    var name: String { String(path.split(separator: ".").last ?? "") }
}
