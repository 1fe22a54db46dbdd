/// A problem in the data, located at its file, line and column name.
public struct DataError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += " (column '\(column)')" }
        return "\(location): \(message)"
    }
}
