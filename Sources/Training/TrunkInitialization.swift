import Engine
import FileFormats
import FlowSpec
import Foundation

/// Starts trunk branches from weights in a safetensors file (`init:`, `prefix:`): typically the
/// `model.safetensors` of an earlier run, whose branch of the same name matches by default.
///
/// Every parameter and running statistic of the branch, `trunk.<branch>.<rest>`, is taken from
/// the file's tensor `<prefix><rest>` and must have the same shape; anything missing or of
/// another shape stops the run before it trains.
public enum TrunkInitialization {
    /// Copies the weights of every branch with `init:` into `plan`; paths are relative to
    /// `flowDirectory`. Returns how many values were loaded.
    @discardableResult
    public static func apply(_ flow: ResolvedFlow, to plan: Plan, flowDirectory: String) throws(Problem) -> Int {
        var loaded = 0
        for branch in flow.branches.map(\.branch) {
            guard let initial = branch.initialWeights else { continue }
            let location = initial.file.location
            func fail(_ message: String) -> Problem { Problem("branch '\(branch.name)': init: \(message)", at: location) }
            let path = initial.file.value.hasPrefix("/") ? initial.file.value
                : URL(fileURLWithPath: flowDirectory).appendingPathComponent(initial.file.value).standardizedFileURL.path
            let file: SafetensorsFile
            do { file = try SafetensorsReader.read(path: path) } catch { throw fail(error.description) }
            let own = "trunk.\(branch.name)."
            let targets: [(String, [Int], UnsafeMutablePointer<Float>)] = plan.parameters.map { ($0.name, $0.shape, $0.value!) }
                + plan.state.map { ($0.name, $0.shape, $0.data) }
            var found = 0
            for (name, shape, values) in targets where name.hasPrefix(own) {
                let source = initial.prefix + name.dropFirst(own.count)
                guard let tensor = file.tensors[source] else {
                    let hint = Suggestion.hint(for: source, among: file.tensors.keys).map { " (\($0))" } ?? ""
                    throw fail("\(path) has no tensor '\(source)' for '\(name)'\(hint)")
                }
                guard tensor.shape == shape else {
                    throw fail("\(path): tensor '\(source)' is \(tensor.shape), '\(name)' needs \(shape)")
                }
                values.update(from: tensor.values, count: tensor.values.count)
                found += 1
                loaded += tensor.values.count
            }
            if found == 0 {
                throw fail("the branch's layers have no weights to load")
            }
        }
        return loaded
    }
}
