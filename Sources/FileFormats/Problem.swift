/// A problem in what flowtrain was given — a flow file, a data file, a weights file, a run
/// directory — said where it is, what is wrong and, when something would fix it, a hint:
/// `train.csv:12:3: column 'age': 'abc' is not a finite number` or
/// `f.yaml:4:7: unknown key 'layer' (did you mean 'layers'?)`.
///
/// Every module throws this one type for such problems (a run directory that cannot be used and
/// a training that diverged have types of their own, which render as one of these), and one
/// place, `description`, renders it. A pass that finds several problems throws the first with
/// the others as `further`, so that a user fixing a file sees them at once. Codable, so that
/// processes reading a file together can tell one another what they found in it.
public struct Problem: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// Where a problem is: a file and, when known, the line, the column or field within it, and
    /// the name of the CSV column.
    public struct Location: Hashable, Sendable, Codable {
        public var file: String
        /// 1-based line of the file; in a CSV file, the line where the row starts.
        public var line: Int?
        /// 1-based: in a text file (a flow), the character column of the line; in a CSV file,
        /// the field of the row (the header's column index + 1). Shown only after a line.
        public var column: Int?
        /// The CSV column's name from the header.
        public var columnName: String?

        public init(file: String, line: Int? = nil, column: Int? = nil, columnName: String? = nil) {
            self.file = file
            self.line = line
            self.column = column
            self.columnName = columnName
        }
    }

    /// Nil when the message names what it is about itself (`cannot open flow file 'x.yaml': …`).
    public var location: Location?
    public var message: String
    /// What would fix it, shown in parentheses: `did you mean 'door_open'?`.
    public var hint: String?
    /// More problems of the same pass, each shown on a line of its own after this one.
    public var further: [Problem] = []
    /// Problems the pass found beyond this one and `further`: counted, not shown.
    public var unreported = 0

    public init(message: String, at location: Location? = nil, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    public init(file: String, line: Int? = nil, column: Int? = nil, columnName: String? = nil, message: String,
                hint: String? = nil) {
        self.init(message: message, at: Location(file: file, line: line, column: column, columnName: columnName), hint: hint)
    }

    /// The lines a user reads: this problem, the further ones, and how many were not shown.
    public var description: String {
        let lines = ([self] + further).map(\.alone)
        guard unreported > 0 else { return lines.joined(separator: "\n") }
        return (lines + ["… \(lines.count + unreported) problems in all; the first \(lines.count) are shown"])
            .joined(separator: "\n")
    }

    /// This problem alone, located as compilers do, so that editors and terminals jump to it:
    /// `FILE:LINE:COLUMN: column 'NAME': message (hint)`, each part there when known.
    private var alone: String {
        var text = ""
        if let location {
            text = location.file
            if let line = location.line {
                text += ":\(line)"
                if let column = location.column { text += ":\(column)" }
            }
            text += ": " + (location.columnName.map { "column '\($0)': " } ?? "")
        }
        return text + message + (hint.map { " (\($0))" } ?? "")
    }
}
