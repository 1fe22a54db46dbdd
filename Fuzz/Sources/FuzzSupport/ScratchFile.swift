import Glibc

/// A file that holds the current fuzz input for readers that only take a path (PNGImage,
/// SafetensorsReader). It is created once and unlinked at once, and named through
/// /proc/self/fd, so nothing is left behind however the fuzzer stops; each input overwrites it.
public final class ScratchFile: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    public init() {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(directory)/flowtrain-fuzz-XXXXXX".utf8CString)
        descriptor = mkstemp(&template)
        precondition(descriptor >= 0, "cannot create a scratch file in \(directory)")
        unlink(template)
        path = "/proc/self/fd/\(descriptor)"
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(ftruncate(descriptor, 0) == 0, "cannot truncate the scratch file")
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(done))
            precondition(n > 0, "cannot write the scratch file")
            done += n
        }
    }
}

/// A directory of its own for writers that need a real directory entry (SafetensorsWriter
/// renames a temporary file over its target); removed with its files at exit.
public final class ScratchDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(directory)/flowtrain-fuzz-XXXXXX".utf8CString)
        precondition(mkdtemp(&template) != nil, "cannot create a scratch directory in \(directory)")
        path = String(cString: template)
        scratchDirectories.append(path)
        if scratchDirectories.count == 1 {
            atexit {
                for path in scratchDirectories {
                    guard let directory = opendir(path) else { continue }
                    while let entry = readdir(directory) {
                        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                        if name != "." && name != ".." { unlink(path + "/" + name) }
                    }
                    closedir(directory)
                    rmdir(path)
                }
            }
        }
    }
}

private var scratchDirectories: [String] = []

/// Set FUZZ_VERBOSE=1 to have a target say what each input gave (an error or a success):
/// for triage, when running a binary on a few files by hand.
public let verbose = getenv("FUZZ_VERBOSE") != nil

public func report(_ text: @autoclosure () -> String) {
    if verbose { print(text()) }
}
