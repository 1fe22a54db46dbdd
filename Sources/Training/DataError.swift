import FileFormats
import FlowSpec

/// A problem in the data, located at its file, line and field (`train.csv:12:3: column 'age':
/// 'abc' is not a finite number`), with the further problems found in the same pass.
public struct DataError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line of the file where the row starts.
    public var line: Int?
    /// 1-based field of the row (the header's column index + 1); in a YAML file, the column.
    public var field: Int?
    /// The column's name.
    public var column: String?
    public var message: String
    /// More problems of the same pass, shown after this one (at most `DataProblems.shown` in all).
    public var further: [DataError] = []
    /// Problems found beyond those shown.
    public var unreported = 0

    public init(file: String, line: Int? = nil, field: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.column = column
        self.message = message
    }

    /// A problem with the field of data row `row` (0-based) in `column` (0-based) of `table`.
    public init(_ table: CSVTable, row: Int, column: Int, message: String) {
        self.init(file: table.file, line: table.line(ofRow: row), field: column + 1, column: table.header[column],
                  message: message)
    }

    /// A problem in the flow file that only the data reveals, at its line and column there.
    public init(_ diagnostic: Diagnostic) {
        self.init(file: diagnostic.location?.file ?? "", line: diagnostic.location?.line,
                  field: diagnostic.location?.column, message: diagnostic.message + (diagnostic.hint.map { " (\($0))" } ?? ""))
    }

    /// The problem alone, located as compilers do, so that editors and terminals jump to it.
    public var located: String {
        var location = file
        if let line { location += ":\(line)" }
        if line != nil, let field { location += ":\(field)" }
        return "\(location): " + (column.map { "column '\($0)': " } ?? "") + message
    }

    public var description: String {
        let lines = [located] + further.map(\.located)
        let total = lines.count + unreported
        guard unreported > 0 else { return lines.joined(separator: "\n") }
        return (lines + ["… \(total) problems in all; the first \(lines.count) are shown"]).joined(separator: "\n")
    }
}

/// Collects the problems of one pass over the data, so that a user fixing a file sees the first
/// few at once, in file order, and how many there are, instead of one per attempt.
struct DataProblems {
    /// Problems shown.
    static let shown = 10
    /// Problems kept for sorting into file order; beyond this they are only counted.
    private static let kept = 10_000
    private var problems: [DataError] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func add(_ problem: DataError) {
        count += 1
        if problems.count < Self.kept { problems.append(problem) }
    }

    /// Adds what another list found (a parallel worker's).
    mutating func add(contentsOf other: DataProblems) {
        count += other.count
        problems += other.problems.prefix(Self.kept - problems.count)
    }

    /// Throws the first problems in file order (file, line, field), if there are any.
    func check() throws(DataError) {
        let sorted = problems.sorted { a, b in
            (a.file, a.line ?? 0, a.field ?? 0) < (b.file, b.line ?? 0, b.field ?? 0)
        }
        guard var first = sorted.first else { return }
        first.further = Array(sorted.dropFirst().prefix(Self.shown - 1))
        first.unreported = count - 1 - first.further.count
        throw first
    }
}
