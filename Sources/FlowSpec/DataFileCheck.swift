import Foundation

/// `check` looks for the flow's data files, without reading them: it is the command people run
/// first, and a missing file found there is found before any training. A path that names no
/// readable regular file is an error at that path in `data:`.
enum DataFileCheck {
    static func report(_ data: DataSource, flowFile: String, sink: DiagnosticSink) {
        let directory = URL(fileURLWithPath: flowFile).deletingLastPathComponent()
        for (key, path) in data.paths {
            let resolved = path.hasPrefix("/") ? path : directory.appendingPathComponent(path).standardizedFileURL.path
            guard let problem = problem(at: resolved) else { continue }
            sink.error("data.\(key): '\(resolved)' \(problem)", at: data.pathLocations[key],
                       hint: path.hasPrefix("/") ? nil : "paths in data: are relative to the flow file")
        }
    }

    /// Why `path` cannot be read as a data file, or nil when it can. `stat`, not `open`: opening
    /// a named pipe would wait for a writer.
    private static func problem(at path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? "does not exist" : "cannot be looked at (\(String(cString: strerror(errno))))"
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return access(path, R_OK) == 0 ? nil : "cannot be read (\(String(cString: strerror(errno))))"
        case S_IFDIR: return "is a directory, not a CSV file"
        default: return "is not a regular file"
        }
    }
}
