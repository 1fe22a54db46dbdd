import FileFormats
import Foundation

/// Reads, decodes, validates and resolves a flow file: the one entry point the commands use.
public enum FlowLoader {
    /// Loads the flow at `path`. Throws every problem found, each at its location (the first,
    /// with the others as its further problems); with `checkingDataFiles`, also each data file
    /// that is missing or cannot be read.
    public static func load(path: String, checkingDataFiles: Bool = false) throws(Problem) -> ResolvedFlow {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "it cannot be read"
            throw Problem(message: "cannot open flow file '\(path)': \(reason)")
        }
        return try load(bytes: [UInt8](data), file: path, checkingDataFiles: checkingDataFiles)
    }

    /// Loads a flow from its text; `file` names it in locations and anchors relative data paths.
    public static func load(bytes: [UInt8], file: String,
                            checkingDataFiles: Bool = false) throws(Problem) -> ResolvedFlow {
        let root = try YAMLReader().read(bytes, file: file)
        guard let root, !root.isNull else {
            throw Problem("the flow file is empty; a flow needs at least name, data, inputs and flow",
                          at: SourceLocation(file: file, line: 1, column: 1))
        }
        let sink = DiagnosticSink()
        guard let flow = FlowDecoder(file: file, sink: sink).decode(root) else { throw sink.problem }
        if checkingDataFiles { DataFileCheck.report(flow.data, flowFile: file, sink: sink) }
        let resolved = FlowResolver(flow: flow, sink: sink).resolve()
        guard let resolved, sink.isEmpty else { throw sink.problem }
        if let search = resolved.flow.search { SearchPathCheck(flow: resolved, sink: sink).check(search) }
        guard sink.isEmpty else { throw sink.problem }
        return resolved
    }
}
