import Foundation

extension FlowSummary {
    /// The same facts as `text`, keyed for scripts.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Document(flow)) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON document: the same facts as the text, keyed for scripts.
    private struct Document: Encodable {
        var name: String
        var file: String
        var inputs: [InputEntry]
        var trunk: [BranchEntry]
        var tasks: [TaskEntry]
        /// Nested flows with their own `when` (already part of each task's `when`).
        var flows: [FlowEntry]
        var parameters: Parameters

        init(_ flow: ResolvedFlow) {
            name = flow.flow.name
            file = flow.flow.file
            inputs = flow.inputs.map { resolved in
                var entry = InputEntry(name: resolved.input.name, type: resolved.input.typeName,
                                       shape: ShapeEntry(resolved.shape), parameters: CountEntry(resolved.parameters))
                switch resolved.input.kind {
                case .numeric(.names(let names), _, _): entry.columns = names
                case .numeric(.pattern(let glob), _, _): entry.column_pattern = glob
                default: entry.column = resolved.input.column
                }
                return entry
            }
            var flows: [FlowEntry] = []
            func collect(_ nodes: [TaskTreeNode]) {
                for case let .flow(path, when, children) in nodes {
                    flows.append(FlowEntry(path: path.description, when: when?.text(\.description)))
                    collect(children)
                }
            }
            collect(flow.tree)
            self.flows = flows
            trunk = flow.branches.map { branch in
                BranchEntry(name: branch.branch.name, from: branch.branch.sources.map(\.value),
                            input_shape: ShapeEntry(branch.inputShape), layers: branch.layers.map(LayerEntry.init),
                            output: ShapeEntry(branch.output), parameters: CountEntry(branch.parameters),
                            init: branch.branch.initialWeights?.file.value, trainable: branch.branch.trainable)
            }
            tasks = flow.tasks.map { task in
                TaskEntry(path: task.path.description, type: task.spec.type.rawValue,
                          when: task.precondition?.text(\.description),
                          depends_on: Array(Set(task.dependencies)).sorted().map(\.description),
                          input: task.inputName, input_shape: ShapeEntry(task.inputShape),
                          head: task.head.map(LayerEntry.init),
                          output: ShapeEntry(task.output), parameters: CountEntry(task.parameters),
                          weight: task.spec.weight,
                          classes: task.spec.type == .multilabel ? nil : task.spec.classes?.value,
                          labels: task.spec.type == .multilabel ? task.spec.classes?.value : nil,
                          scale: task.spec.type == .boundedRegression ? task.spec.scale : nil)
            }
            parameters = Parameters(trunk: CountEntry(flow.trunkParameters), heads: CountEntry(flow.headParameters),
                                    total: CountEntry(flow.trunkParameters + flow.headParameters))
        }
    }

    private struct InputEntry: Encodable {
        var name, type: String
        var column: String?
        var columns: [String]?
        var column_pattern: String?
        var shape: ShapeEntry
        var parameters: CountEntry

        init(name: String, type: String, shape: ShapeEntry, parameters: CountEntry) {
            (self.name, self.type, self.shape, self.parameters) = (name, type, shape, parameters)
        }
    }

    private struct FlowEntry: Encodable {
        var path: String
        var when: String?
    }

    private struct BranchEntry: Encodable {
        var name: String
        var from: [String]
        var input_shape: ShapeEntry
        var layers: [LayerEntry]
        var output: ShapeEntry
        var parameters: CountEntry
        var `init`: String?
        var trainable: Bool
    }

    private struct TaskEntry: Encodable {
        var path, type: String
        var when: String?
        var depends_on: [String]
        var input: String
        var input_shape: ShapeEntry
        var head: [LayerEntry]
        var output: ShapeEntry
        var parameters: CountEntry
        var weight: Double
        var classes: [String]?
        var labels: [String]?
        var scale: Double?
    }

    private struct LayerEntry: Encodable {
        var layer: String
        var summary: String
        var output: ShapeEntry
        var parameters: CountEntry
        var layers: [LayerEntry]?
        /// A residual block's shortcut, when it has one.
        var shortcut: [LayerEntry]?

        init(_ layer: ResolvedLayer) {
            self.layer = LayerDescription.name(layer.layer.kind)
            summary = LayerDescription.summary(layer.layer.kind)
            output = ShapeEntry(layer.output)
            parameters = CountEntry(layer.parameters)
            layers = layer.inner.isEmpty ? nil : layer.inner.map(LayerEntry.init)
            shortcut = layer.shortcut.isEmpty ? nil : layer.shortcut.map(LayerEntry.init)
        }
    }

    private struct Parameters: Encodable {
        var trunk, heads, total: CountEntry
    }

    /// A count as a JSON number when known, as its formula otherwise.
    private struct CountEntry: Encodable {
        var count: SymbolicCount
        init(_ count: SymbolicCount) { self.count = count }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if let known = count.known { try container.encode(known) } else { try container.encode(count.description) }
        }
    }

    /// A shape as a list of dimensions (numbers, or formulas for data-dependent ones).
    private struct ShapeEntry: Encodable {
        var dims: [CountEntry]
        var kind: String

        init(_ shape: Shape) {
            switch shape {
            case .vector(let width): (dims, kind) = ([CountEntry(width)], "vector")
            case let .image(h, w, c): (dims, kind) = ([h, w, c].map { CountEntry(SymbolicCount($0)) }, "image")
            case let .sequence(length, features): (dims, kind) = ([CountEntry(SymbolicCount(length)), CountEntry(features)], "sequence")
            case .tokenIDs(let length, _): (dims, kind) = ([CountEntry(SymbolicCount(length))], "token_ids")
            }
        }
    }
}
