import FileFormats

/// A problem of a flow file (or another YAML file), at a position of its text.
extension Problem {
    public init(_ message: String, at location: SourceLocation?, hint: String? = nil) {
        self.init(message: message, at: location.map(Location.init), hint: hint)
    }
}

extension Problem.Location {
    public init(_ source: SourceLocation) {
        self.init(file: source.file, line: source.line, column: source.column)
    }
}
