/// A problem in a CSV file, at its line and 1-based field number when known.
public struct CSVError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: Int?
    public var message: String

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let field { text += ":\(field)" }
        return text + ": " + message
    }
}
