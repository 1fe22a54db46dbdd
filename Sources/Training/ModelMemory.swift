import FileFormats
import FlowSpec
import Foundation

/// The memory a model's plan needs at the least, computed from the flow's shapes and the data's
/// sizes before anything is allocated: a model larger than the machine is refused with the
/// figure, instead of dying in the allocator (or at the kernel's hand) while it is built.
///
/// Counted: every parameter's value and gradient, and the optimiser's state of the trainable
/// ones (Adam two buffers, SGD one); the output of every input and of every layer with weights,
/// for a batch. Not counted (so the figure is a floor): the other layers' outputs (a ReLU may
/// run inside the dense layer before it, a flatten is a view), the activations' gradients and
/// the ops' scratch.
public struct ModelMemory {
    private(set) var parameters = 0.0
    private(set) var valuesPerSample = 0.0
    /// Bytes in all.
    private(set) var bytes = 0.0
    /// Where the bytes of the layer (or input) that holds the most are declared.
    private(set) var largest: (location: SourceLocation, bytes: Double)?

    init(_ flow: ResolvedFlow, facts: DataFacts, batch: Int) {
        let training = flow.flow.training
        let optimizerBuffers = switch training.optimizer.name {
        case .adam, .adamw: 2.0
        case .sgd: 1.0
        }
        func count(_ symbolic: SymbolicCount) -> Double { Self.value(of: symbolic, facts: facts, flow: flow) }
        func add(_ location: SourceLocation, parameters: SymbolicCount, output: Shape?, trainable: Bool) {
            let parameterCount = count(parameters)
            let outputSize = output.map { Self.size(of: $0, count) } ?? 0
            let layerBytes = 4 * (parameterCount * (2 + (trainable ? optimizerBuffers : 0)) + Double(batch) * outputSize)
            self.parameters += parameterCount
            valuesPerSample += outputSize
            bytes += layerBytes
            if layerBytes > largest?.bytes ?? -1 { largest = (location, layerBytes) }
        }
        func weighted(_ layer: ResolvedLayer) -> Shape? { count(layer.parameters) > 0 ? layer.output : nil }
        for input in flow.inputs {
            add(input.input.location, parameters: input.parameters, output: input.shape, trainable: true)
        }
        for branch in flow.branches {
            for layer in branch.layers {
                add(layer.layer.location, parameters: layer.parameters, output: weighted(layer),
                    trainable: branch.branch.trainable)
            }
        }
        for task in flow.tasks {
            for layer in task.head + [task.outputLayer] {
                add(layer.layer.location, parameters: layer.parameters, output: weighted(layer), trainable: true)
            }
        }
    }

    /// Refuses a model that needs more memory than the machine has, located at its largest layer.
    public static func check(_ flow: ResolvedFlow, facts: DataFacts, batch: Int) throws(Problem) {
        let memory = ModelMemory(flow, facts: facts, batch: batch)
        let available = availableBytes
        guard memory.bytes > available else { return }
        let location = memory.largest?.location
        throw Problem(file: location?.file ?? flow.flow.file, line: location?.line, column: location?.column,
                      message: "the model needs at least \(bytesText(memory.bytes)) of memory "
                          + "(\(grouped(memory.parameters)) parameters, \(grouped(memory.valuesPerSample)) values per "
                          + "sample at batches of \(batch)), more than the \(bytesText(available)) this machine has; "
                          + "this layer holds the most: make it smaller (or the batch smaller)")
    }

    /// Physical memory, or the control group's limit when it is lower (a container, a batch job).
    static var availableBytes: Double {
        var bytes = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if let limit = text.flatMap(Double.init), limit > 0 { bytes = min(bytes, limit) }
        }
        return bytes
    }

    /// A count once the data has given its symbols their values (`columns(f*)`, `classes(kind)`),
    /// in floating point so that no product of a huge flow overflows.
    private static func value(of count: SymbolicCount, facts: DataFacts, flow: ResolvedFlow) -> Double {
        count.terms.reduce(Double(count.fixed)) { total, term in
            total + Double(term.coefficient) * term.symbol.split(separator: "×").reduce(1.0) { product, symbol in
                product * Double(value(of: String(symbol), facts: facts, flow: flow))
            }
        }
    }

    /// What the data says a symbol `check` prints is.
    private static func value(of symbol: String, facts: DataFacts, flow: ResolvedFlow) -> Int {
        let kind = symbol.prefix { $0 != "(" }, name = String(symbol.drop { $0 != "(" }.dropFirst().dropLast())
        switch kind {
        case "vocabulary": return facts.vocabularySize[name] ?? 0
        case "classes", "labels": return facts.classes[TaskPath(name.split(separator: ".").map(String.init))]?.count ?? 0
        case "indicators": return (facts.numericWidth[name] ?? 0) - (facts.numericColumns[name] ?? 0)
        case "columns":
            let input = flow.inputs.first { if case .numeric(.pattern(name), _, _) = $0.input.kind { true } else { false } }
            return input.flatMap { facts.numericColumns[$0.input.name] } ?? 0
        default: return 0
        }
    }

    /// Values in one sample of `shape`.
    private static func size(of shape: Shape, _ count: (SymbolicCount) -> Double) -> Double {
        switch shape {
        case .vector(let width): count(width)
        case let .image(height, width, channels): Double(height) * Double(width) * Double(channels)
        case let .sequence(length, features): Double(length) * count(features)
        case .tokenIDs(let length, _): Double(length)
        }
    }

    /// `8.0 TB`, `15.6 GB`: decimal units, as disks and memory sticks are sold.
    private static func bytesText(_ bytes: Double) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1000, unit < units.count - 1 { (value, unit) = (value / 1000, unit + 1) }
        return unit == 0 ? "\(Int(value)) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// `400,000,000,001`.
    private static func grouped(_ value: Double) -> String {
        value < 9e18 ? SymbolicCount.grouped(Int(value)) : String(format: "%.3g", value)
    }
}
