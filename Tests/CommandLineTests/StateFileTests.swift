import Foundation
import Testing

/// `state.json` is checked against the flow when a run is read: a value a user edited into it
/// (a list of the wrong length, a zero scale, bin edges that do not increase, an entry
/// removed) stops the command with exit 2, the file and the key, never with a trap.
@Suite(.serialized)  // every case edits the one run's state.json
struct StateFileTests {
    /// (case, the edit at a key path of state.json, the message after `RUN/state.json: `).
    static let cases: [(name: String, path: [String], value: JSONValue, error: String)] = [
        ("a short offsets list", ["statistics", "numeric", "x", "offsets"], .numbers([0.5]),
         "statistics.numeric.x.offsets: has 1 value for the 2 columns of input 'x'"),
        ("a long scales list", ["statistics", "numeric", "x", "scales"], .numbers([1, 1, 1]),
         "statistics.numeric.x.scales: has 3 values for the 2 columns of input 'x'"),
        ("a zero scale", ["statistics", "numeric", "x", "scales"], .numbers([1, 0]),
         "statistics.numeric.x.scales[1] (column 'b'): must be a finite number other than 0 (values are divided by it), not 0"),
        ("bin edges for one column of two", ["statistics", "numeric", "x", "binEdges"], .lists([[0, 1]]),
         "statistics.numeric.x.binEdges: has 1 list for the 2 columns of input 'x'"),
        ("bin edges that do not increase", ["statistics", "numeric", "x", "binEdges"], .lists([[0, 0.75, 0.5], [0, 1]]),
         "statistics.numeric.x.binEdges[0] (column 'a'): the edges must increase, but 0.5 follows 0.75"),
        ("more bin edges than bins", ["statistics", "numeric", "x", "binEdges"], .lists([[0, 1], [0, 1, 2, 3, 4, 5]]),
         "statistics.numeric.x.binEdges[1] (column 'b'): has 6 edges; input 'x' has 4 bins, so at most 5"),
        ("a single bin edge", ["statistics", "numeric", "x", "binEdges"], .lists([[0, 1], [2]]),
         "statistics.numeric.x.binEdges[1] (column 'b'): has 1 edge; a column has none or at least 2"),
        ("no bin edges", ["statistics", "numeric", "x", "binEdges"], .absent,
         "statistics.numeric.x: has no binEdges, which input 'x' needs for encoding: piecewise_linear"),
        ("a number as text", ["statistics", "numeric", "x", "offsets"], .text("zero"),
         "statistics.numeric.x.offsets: is not a list"),
        ("no statistics for a numeric input", ["statistics", "numeric", "x"], .absent,
         "statistics.numeric: has no entry for input 'x'"),
        ("no vocabulary for a category input", ["statistics", "vocabularies", "kind"], .absent,
         "statistics.vocabularies: has no entry for input 'kind'"),
        ("no classes for a classification task", ["statistics", "classes", "colour"], .absent,
         "statistics.classes: has no entry for task 'colour'"),
        ("a class twice", ["statistics", "classes", "colour"], .texts(["c1", "c1"]),
         "statistics.classes.colour: holds 'c1' twice"),
        ("a bin edge beyond float32", ["statistics", "numeric", "x", "binEdges"], .lists([[0, 1e39], [0, 1]]),
         "is not valid JSON, or holds a number beyond float32's range (±3.4e38)"),
        ("a zero deviation", ["statistics", "regression", "size", "deviation"], .number(0),
         "statistics.regression.size.deviation: must be a finite number above 0, not 0"),
    ]

    static let hint = "; state.json holds what training learned: restore the file, or train the run again\n"

    /// The run is trained once; each case edits a copy of its state.json.
    static let trained: URL = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-state-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let flow = try? TabularRunFixture.write(in: directory)
        _ = try? run(["train", flow?.path ?? "", "--run-dir", directory.appendingPathComponent("run").path])
        return directory.appendingPathComponent("run")
    }()

    @Test(arguments: cases.indices)
    func anEditedStateIsRefusedWithItsKey(_ index: Int) throws {
        let (name, path, value, error) = Self.cases[index]
        let state = Self.trained.appendingPathComponent("state.json")
        let original = try Data(contentsOf: state)
        defer { try? original.write(to: state) }
        #expect(try run(["predict", Self.trained.path, "--data", Self.trained.path + "/../test.csv", "--out", "-"]).status == 0)
        var json = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        Self.set(&json, path[...], value.object)
        try JSONSerialization.data(withJSONObject: json).write(to: state)
        let result = try run(["predict", Self.trained.path, "--data", Self.trained.path + "/../test.csv", "--out", "-"])
        #expect(result.status == 2, "\(name): \(result.stderr)")
        #expect(result.stderr == "\(state.path): \(error)\(Self.hint)", "\(name)")
    }

    /// A value written into state.json: a number, a list of them, a list of lists, text, a list
    /// of texts, or none (the key removed).
    enum JSONValue: Sendable {
        case number(Double), numbers([Double]), lists([[Double]]), text(String), texts([String]), absent

        var object: Any? {
            switch self {
            case .number(let value): value
            case .numbers(let values): values
            case .lists(let lists): lists
            case .text(let text): text
            case .texts(let texts): texts
            case .absent: nil
            }
        }
    }

    private static func set(_ object: inout [String: Any], _ path: ArraySlice<String>, _ value: Any?) {
        guard let key = path.first else { return }
        if path.count == 1 {
            object[key] = value
        } else if var inner = object[key] as? [String: Any] {
            set(&inner, path.dropFirst(), value)
            object[key] = inner
        }
    }
}
