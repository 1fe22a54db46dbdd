/// A flow with every name resolved, every precondition composed and every shape inferred:
/// what `check` prints and what training compiles into an engine plan.
public struct ResolvedFlow: Sendable {
    public var flow: Flow
    public var inputs: [ResolvedInput]
    /// Trunk branches in an order where each comes after the branches it reads.
    public var branches: [ResolvedBranch]
    /// Tasks in evaluation order: each after every task its precondition refers to.
    public var tasks: [ResolvedTask]
    /// The task tree as written, for display.
    public var tree: [TaskTreeNode]

    public var trunkParameters: SymbolicCount {
        inputs.map(\.parameters).reduce(SymbolicCount(0), +) + branches.map(\.parameters).reduce(SymbolicCount(0), +)
    }

    public var headParameters: SymbolicCount { tasks.map(\.parameters).reduce(SymbolicCount(0), +) }

    public func task(_ path: TaskPath) -> ResolvedTask? { tasks.first { $0.path == path } }

    /// The branch GradNorm measures task gradients on: the one `loss_weighting` names, else the
    /// branch the most tasks read directly (the later one on a tie); nil without gradnorm.
    public var gradNormBranch: String? {
        guard case .gradnorm(_, _, let named) = flow.training.lossWeighting else { return nil }
        if let named { return named.value }
        let readers = Dictionary(tasks.map { ($0.inputName, 1) }, uniquingKeysWith: +)
        return branches.map(\.branch.name).reversed().max { (readers[$0] ?? 0) < (readers[$1] ?? 0) }
    }
}

/// A task's position in the tree: the names from the root, joined by `.` in paths and CSV columns.
public struct TaskPath: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public var components: [String]

    public init(_ components: [String]) { self.components = components }

    public var name: String { components.last ?? "" }
    public var description: String { components.joined(separator: ".") }

    public static func < (a: Self, b: Self) -> Bool { a.description < b.description }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        components = text.split(separator: ".").map(String.init)
    }
}

/// An input with its per-sample shape.
public struct ResolvedInput: Sendable {
    public var input: Input
    public var shape: Shape
    /// Learned parameters of the input itself (a category embedding table).
    public var parameters: SymbolicCount
    /// An image input's `augment:`, with its coordinate tasks resolved.
    public var augmentation: ResolvedAugmentation? = nil
}

/// A trunk branch with the shape after each layer.
public struct ResolvedBranch: Sendable {
    public var branch: Branch
    /// The shape entering the first layer (sources concatenated when there are several).
    public var inputShape: Shape
    public var layers: [ResolvedLayer]
    public var output: Shape { layers.last?.output ?? inputShape }
    public var parameters: SymbolicCount { layers.map(\.parameters).reduce(SymbolicCount(0), +) }
}

/// A layer with its inferred output shape and parameter count.
public struct ResolvedLayer: Sendable {
    public var layer: Layer
    public var output: Shape
    public var parameters: SymbolicCount
    /// The layers inside a residual block.
    public var inner: [ResolvedLayer]
    /// A residual block's shortcut layers; empty for the identity and for every other layer.
    public var shortcut: [ResolvedLayer] = []
}

/// A task with its composed precondition, its input and its head.
public struct ResolvedTask: Sendable {
    public var path: TaskPath
    public var spec: TaskSpec
    public var location: SourceLocation
    /// Every `when` from the outermost nested flow down to the task's own, joined with `and`.
    public var precondition: Condition<TaskPath>?
    /// The trunk branch or input the head reads.
    public var inputName: String
    public var inputShape: Shape
    /// Hidden head layers as written in `head:`.
    public var head: [ResolvedLayer]
    /// The dense layer the task type adds: one unit, or one per class or label.
    public var outputLayer: ResolvedLayer
    /// The task's own `when`, without those of the flows around it (where `explain` hangs the
    /// task in its tree).
    public var ownPrecondition: Condition<TaskPath>? = nil
    /// The tokens input whose positions the task's sequence holds (token classification and
    /// masked language models; nil for the others): the text a token classification's labels
    /// pair with, the input a masked language model masks.
    public var tokensInput: String? = nil
    public var output: Shape { outputLayer.output }
    public var parameters: SymbolicCount {
        head.map(\.parameters).reduce(outputLayer.parameters, +)
    }
    /// Tasks the precondition refers to.
    public var dependencies: [TaskPath] { precondition?.references ?? [] }
}

/// The task tree as written: tasks (by index into `ResolvedFlow.tasks`) and nested flows.
public indirect enum TaskTreeNode: Sendable {
    case task(Int)
    case flow(path: TaskPath, when: Condition<TaskPath>?, children: [TaskTreeNode])
}

extension ResolvedFlow {
    /// The tokens input whose positions the sequence of `name` (an input or a branch) holds:
    /// the input itself, or the one input a chain of single-source branches descends from. Nil
    /// for anything else (several sources are concatenated into a vector, which has no positions).
    static func tokensInput(feeding name: String, inputs: [ResolvedInput], branches: [ResolvedBranch]) -> Input? {
        var name = name
        for _ in 0...branches.count {
            if let input = inputs.first(where: { $0.input.name == name })?.input {
                if case .tokens = input.kind { return input }
                return nil
            }
            guard let branch = branches.first(where: { $0.branch.name == name }), branch.branch.sources.count == 1 else {
                return nil
            }
            name = branch.branch.sources[0].value
        }
        return nil
    }
}
