extension Problem {
    /// A problem with the field of data row `row` (0-based) in `column` (0-based) of `table`:
    /// at the row's line, the field's number and the column's name.
    public init(_ table: CSVTable, row: Int, column: Int, message: String) {
        self.init(file: table.file, line: table.line(ofRow: row), column: column + 1, columnName: table.header[column],
                  message: message)
    }
}
