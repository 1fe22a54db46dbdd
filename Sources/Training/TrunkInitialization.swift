import Engine
import FileFormats
import FlowSpec
import Foundation

/// Starts trunk branches from weights in a safetensors file (`init:`): the `model.safetensors`
/// of an earlier run, or a PyTorch `state_dict()` saved with `safetensors.torch.save_file`
/// (`layout: torch`).
///
/// Which of the file's tensors each layer takes:
/// - flowtrain's layout without `names`: tensor `trunk.<branch>.<rest>` is the file's
///   `<prefix><rest>` (default prefix `trunk.<branch>.`, the same branch of an earlier run);
/// - `names:` pairs: each layer of the branch (`0.conv`) reads the file's module (`conv1`):
///   its `weight`, `bias`, `running_mean`, `running_var`;
/// - `names: in_order` (the default with `layout: torch`): the branch's layers in forward order,
///   each taking the first module of the file, in the natural order of the names, not yet
///   taken whose tensors have its shapes (torchvision's ResNets map this way).
///
/// PyTorch's layout converts convolution weights (O, I, kH, kW) to the engine's (F, K, K, C)
/// and a Linear's columns after a `flatten` of an image from channels-first to the engine's
/// channels-last order; `num_batches_tracked` is ignored. Everything is checked before anything
/// is copied: a missing module, a wrong shape or another dtype stops the run, with the first
/// problems, both shapes and a did-you-mean on names.
public enum TrunkInitialization {
    /// Copies the weights of every branch with `init:` into `plan`; paths are relative to
    /// `flowDirectory`. Returns how many values were loaded.
    @discardableResult
    public static func apply(_ flow: ResolvedFlow, to plan: Plan, flowDirectory: String) throws(Problem) -> Int {
        var loaded = 0
        for resolved in flow.branches {
            let branch = resolved.branch
            guard let initial = branch.initialWeights else { continue }
            let location = initial.file.location
            func fail(_ message: String, at place: SourceLocation? = nil, hint: String? = nil) -> Problem {
                Problem("branch '\(branch.name)': init: \(message)", at: place ?? location, hint: hint)
            }
            let path = initial.file.value.hasPrefix("/") ? initial.file.value
                : URL(fileURLWithPath: flowDirectory).appendingPathComponent(initial.file.value).standardizedFileURL.path
            let file: SafetensorsFile
            do { file = try SafetensorsReader.read(path: path) } catch { throw fail(error.description) }
            let layers = BranchLayers(plan, branch: resolved)
            guard !layers.modules.isEmpty else { throw fail("the branch's layers have no weights to load") }
            let sources: [(BranchLayers.Module, String)]
            switch initial.effectiveNames {
            case nil:
                // The branch of an earlier run: each tensor by its own name after the prefix.
                sources = layers.modules.map { ($0, initial.prefix + $0.path) }
            case .pairs(let pairs)?:
                sources = try paired(layers, pairs, file: file, path: path, fail: fail)
            case .inOrder?:
                sources = try inOrder(layers, file: file, layout: initial.layout, path: path, fail: fail)
            }
            // Every tensor checked first, then copied: a refused file leaves the model as it was.
            var copies: [(UnsafeMutablePointer<Float>, [Float])] = []
            var problems: [Problem] = []
            for (module, source) in sources {
                for tensor in module.tensors {
                    let name = "\(source).\(tensor.part)"
                    switch convert(file, name, to: tensor, of: module, layout: initial.layout) {
                    case .success(let values): copies.append((tensor.data, values))
                    case .failure(let reason):
                        let message = switch reason {
                        case .missing:
                            "\(path) has no tensor '\(name)' for '\(tensor.fullName)'"
                        case .dtype(let dtype):
                            "\(path): tensor '\(name)' has dtype \(dtype); flowtrain loads F32 weights"
                        case .shape(let found, let needed):
                            "\(path): tensor '\(name)' is \(found), '\(tensor.fullName)' needs \(needed)"
                                + (needed == tensor.shape ? "" : " (\(tensor.shape) in flowtrain's layout)")
                        }
                        let hint: String? = switch reason {
                        case .missing: Suggestion.hint(for: name, among: Array(file.tensors.keys) + Array(file.otherTensors.keys))
                        case .dtype: "in PyTorch, save {name: tensor.float() for name, tensor in model.state_dict().items()}"
                        case .shape: nil
                        }
                        problems.append(fail(message + (hint.map { " (\($0))" } ?? "")))
                    }
                }
            }
            if var first = problems.first {
                first.further = Array(problems.dropFirst().prefix(4))
                first.unreported = max(problems.count - 5, 0)
                throw first
            }
            for (data, values) in copies {
                data.update(from: values, count: values.count)
                loaded += values.count
            }
        }
        return loaded
    }

    /// `names:` pairs: every layer of the branch named once, every module in the file.
    private static func paired(_ layers: BranchLayers, _ pairs: [TensorNamePair], file: SafetensorsFile, path: String,
                               fail: (String, SourceLocation?, String?) -> Problem) throws(Problem) -> [(BranchLayers.Module, String)] {
        let modules = fileModules(file)
        var problems: [Problem] = []
        let layerPaths = layers.modules.map(\.path)
        for pair in pairs where !layerPaths.contains(pair.layer.value) {
            problems.append(fail("names: the branch has no layer '\(pair.layer.value)' with weights", pair.layer.location,
                                 Suggestion.hint(for: pair.layer.value, among: layerPaths)))
        }
        for pair in pairs where modules[pair.module.value] == nil {
            problems.append(fail("names: \(path) has no module '\(pair.module.value)' (no tensor '\(pair.module.value).…')",
                                 pair.module.location, Suggestion.hint(for: pair.module.value, among: modules.keys)))
        }
        let byLayer = Dictionary(pairs.map { ($0.layer.value, $0.module.value) }, uniquingKeysWith: { a, _ in a })
        let unnamed = layerPaths.filter { byLayer[$0] == nil }
        if !unnamed.isEmpty {
            problems.append(fail("names: no \(unnamed.count == 1 ? "module for layer" : "modules for layers") "
                                 + unnamed.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                                 + (unnamed.count > 5 ? " and \(unnamed.count - 5) more" : ""), nil,
                                 "name every layer with weights, or write names: in_order"))
        }
        if var first = problems.first {
            first.further = Array(problems.dropFirst().prefix(4))
            first.unreported = max(problems.count - 5, 0)
            throw first
        }
        return layers.modules.compactMap { module in byLayer[module.path].map { (module, $0) } }
    }

    /// `names: in_order`: each layer takes the first module not yet taken, in the natural order
    /// of the file's names, whose tensors are exactly the layer's parts with its shapes.
    private static func inOrder(_ layers: BranchLayers, file: SafetensorsFile, layout: WeightLayout, path: String,
                                fail: (String, SourceLocation?, String?) -> Problem) throws(Problem) -> [(BranchLayers.Module, String)] {
        let modules = fileModules(file)
        var available = modules.keys.sorted(by: NaturalOrder.precedes)
        var result: [(BranchLayers.Module, String)] = []
        for module in layers.modules {
            let parts = Set(module.tensors.map(\.part))
            let fits = available.firstIndex { name in
                modules[name] == parts && module.tensors.allSatisfy { tensor in
                    if case .success = convert(file, "\(name).\(tensor.part)", to: tensor, of: module, layout: layout) { true } else { false }
                }
            }
            guard let fits else {
                let needs = module.tensors.map { "\($0.part) \(layout == .torch ? torchShape($0, of: module) : $0.shape)" }
                    .joined(separator: ", ")
                throw fail("names: in_order: no module of \(path) left for layer '\(module.path)', which needs \(needs)"
                           + (result.isEmpty ? "" : " (the layers before it took \(result.map(\.1).suffix(3).joined(separator: ", ")))"),
                           nil, "name the modules with names: {\(module.path): <module>, …}")
            }
            result.append((module, available.remove(at: fits)))
        }
        return result
    }

    /// The file's modules (tensor names without their last part) with their parts, PyTorch's
    /// `num_batches_tracked` left out.
    static func fileModules(_ file: SafetensorsFile) -> [String: Set<String>] {
        var modules: [String: Set<String>] = [:]
        for name in Array(file.tensors.keys) + Array(file.otherTensors.keys) {
            guard let dot = name.lastIndex(of: ".") else { continue }
            let part = String(name[name.index(after: dot)...])
            if part == "num_batches_tracked" { continue }
            modules[String(name[..<dot]), default: []].insert(part)
        }
        return modules
    }

    enum Refusal: Error {
        case missing
        case dtype(String)
        case shape(found: [Int], needed: [Int])
    }

    /// The file's tensor `name` in the engine's layout for `tensor`.
    static func convert(_ file: SafetensorsFile, _ name: String, to tensor: BranchLayers.Tensor, of module: BranchLayers.Module,
                        layout: WeightLayout) -> Result<[Float], Refusal> {
        guard let source = file.tensors[name] else {
            if let other = file.otherTensors[name] { return .failure(.dtype(other.dtype)) }
            return .failure(.missing)
        }
        let needed = layout == .torch ? torchShape(tensor, of: module) : tensor.shape
        guard source.shape == needed else { return .failure(.shape(found: source.shape, needed: needed)) }
        guard layout == .torch, tensor.part == "weight" else { return .success(source.values) }
        var values = source.values
        if module.kind == "conv", tensor.shape.count == 4 {
            // (F, C, K, K) → (F, K, K, C).
            let (f, k, c) = (tensor.shape[0], tensor.shape[1], tensor.shape[3])
            for o in 0..<f {
                for ky in 0..<k {
                    for kx in 0..<k {
                        for ch in 0..<c { values[((o * k + ky) * k + kx) * c + ch] = source.values[((o * c + ch) * k + ky) * k + kx] }
                    }
                }
            }
        } else if module.kind == "dense", let image = module.flattenedImage {
            // PyTorch flattened the image channels first: column (ch, y, x) → (y, x, ch).
            let (h, w, c) = (image[0], image[1], image[2]), columns = h * w * c
            for o in 0..<tensor.shape[0] {
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c { values[o * columns + (y * w + x) * c + ch] = source.values[o * columns + (ch * h + y) * w + x] }
                    }
                }
            }
        }
        return .success(values)
    }

    /// The shape PyTorch gives the tensor: a convolution's weight (O, I, kH, kW).
    static func torchShape(_ tensor: BranchLayers.Tensor, of module: BranchLayers.Module) -> [Int] {
        guard module.kind == "conv", tensor.part == "weight", tensor.shape.count == 4 else { return tensor.shape }
        return [tensor.shape[0], tensor.shape[3], tensor.shape[1], tensor.shape[2]]
    }
}

/// The layers of one branch that hold tensors, in forward order, with their tensors in the plan.
struct BranchLayers {
    struct Tensor {
        /// `weight`, `bias`, `running_mean`, `running_var`.
        let part: String
        /// As in `model.safetensors`: `trunk.<branch>.<path>.<part>`.
        let fullName: String
        let shape: [Int]
        let data: UnsafeMutablePointer<Float>
    }

    struct Module {
        /// The layer's name inside the branch: `0.conv`, `4.residual.shortcut.0.conv`.
        let path: String
        /// The layer type, its name's last part: `conv`, `dense`, `batchnorm`.
        var kind: String { String(path.split(separator: ".").last ?? "") }
        var tensors: [Tensor]
        /// For a dense layer reading a flattened image: the image's [H, W, C].
        var flattenedImage: [Int]?
    }

    let modules: [Module]

    init(_ plan: Plan, branch: ResolvedBranch) {
        let own = "trunk.\(branch.branch.name)."
        var modules: [Module] = []
        var index: [String: Int] = [:]
        let tensors = plan.parameters.map { ($0.name, $0.shape, $0.value!) } + plan.state.map { ($0.name, $0.shape, $0.data) }
        for (name, shape, data) in tensors where name.hasPrefix(own) {
            let rest = name.dropFirst(own.count)
            guard let dot = rest.lastIndex(of: ".") else { continue }
            let path = String(rest[..<dot]), part = String(rest[rest.index(after: dot)...])
            let tensor = Tensor(part: part, fullName: name, shape: shape, data: data)
            if let i = index[path] {
                modules[i].tensors.append(tensor)
            } else {
                index[path] = modules.count
                modules.append(Module(path: path, tensors: [tensor]))
            }
        }
        // Dense layers right after a flatten of an image (activations and dropout between).
        var image: [Int]?
        var shape = branch.inputShape
        for (i, layer) in branch.layers.enumerated() {
            switch layer.layer.kind {
            case .flatten:
                if case let .image(h, w, c) = shape { image = [h, w, c] }
            case .dense:
                if let image, let m = index["\(i).dense"] { modules[m].flattenedImage = image }
                image = nil
            case .relu, .leakyRelu, .gelu, .tanh, .sigmoid, .dropout:
                break
            default:
                image = nil
            }
            shape = layer.output
        }
        self.modules = modules
    }
}

/// Names compared as people read them: runs of digits as numbers (`layer2` before `layer10`).
enum NaturalOrder {
    static func precedes(_ a: String, _ b: String) -> Bool {
        let (x, y) = (runs(a), runs(b))
        for (p, q) in zip(x, y) where p != q {
            if let m = Int(p), let n = Int(q) { return m < n }
            return p < q
        }
        return x.count < y.count
    }

    private static func runs(_ text: String) -> [String] {
        var result: [String] = [], current = ""
        for character in text {
            if let last = current.last, last.isNumber != character.isNumber {
                result.append(current)
                current = ""
            }
            current.append(character)
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
