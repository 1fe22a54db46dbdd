import FlowSpec
import Foundation
import Tasks
import Training

/// What an exported model says about itself in `metadata_props`, for whoever serves it: the
/// flow's name, flowtrain's version, and as JSON the inputs (columns in order, vocabularies)
/// and the tasks (paths, types, preconditions, class and label names, thresholds, temperatures,
/// the units of regressions).
struct ExportMetadata {
    struct InputEntry: Codable {
        var name: String
        var type: String
        /// Per sample: numeric columns, [H, W, C] for an image, [L] for tokens, [] for a category.
        var shape: [Int]
        /// A numeric input's columns, in the order of the input's values.
        var columns: [String]?
        /// The CSV column of an image, category or tokens input.
        var column: String?
        /// A category's values (index 0, the unknown slot, included) or a tokens input's
        /// vocabulary (0 padding, 1 unknown, 2 the mask of masked language modelling).
        var vocabulary: [String]?
        /// A tokens input's split (`whitespace` or `characters`) and whether the text is
        /// lowercased first: how a server turns text into the ids the model reads.
        var tokenize: String?
        var lowercase: Bool?
    }

    struct TaskEntry: Codable {
        var path: String
        var type: String
        /// The composed precondition, as `check` writes it; nil: always reached.
        var when: String?
        /// Classes (classification) or labels (multilabel), in index order.
        var classes: [String]?
        var thresholds: [Float]?
        var temperature: Float?
        /// Bounded regression: decoded = activated · scale.
        var scale: Double?
        /// Regression: decoded = activated · deviation + mean.
        var mean: Double?
        var deviation: Double?
    }

    let entries: [(key: String, value: String)]

    init(flow: ResolvedFlow, statistics: DataStatistics, tasks: [ResolvedTask], decoders: [TaskDecoder]) {
        let inputs = flow.inputs.map { resolved -> InputEntry in
            let input = resolved.input
            switch input.kind {
            case .numeric:
                let columns = statistics.numeric[input.name]?.columns ?? []
                return InputEntry(name: input.name, type: input.typeName, shape: [columns.count], columns: columns)
            case let .image(height, width, channels, _):
                return InputEntry(name: input.name, type: input.typeName, shape: [height, width, channels], column: input.column)
            case .tokens(let settings):
                return InputEntry(name: input.name, type: input.typeName, shape: [settings.maxLength], column: input.column,
                                  vocabulary: statistics.vocabularies[input.name], tokenize: settings.split.rawValue,
                                  lowercase: settings.lowercase)
            case .category:
                return InputEntry(name: input.name, type: input.typeName, shape: [], column: input.column,
                                  vocabulary: statistics.vocabularies[input.name])
            }
        }
        let taskEntries = zip(tasks, decoders).map { task, decoder -> TaskEntry in
            var entry = TaskEntry(path: task.path.description, type: task.spec.type.rawValue,
                                  when: task.precondition?.text { $0.description })
            switch task.spec.type {
            case .binary:
                entry.thresholds = decoder.thresholds
                entry.temperature = decoder.temperature
            case .multilabel:
                (entry.classes, entry.thresholds, entry.temperature) = (decoder.names, decoder.thresholds, decoder.temperature)
            case .classification, .tokenClassification:
                (entry.classes, entry.temperature) = (decoder.names, decoder.temperature)
            case .maskedLanguageModel:
                break  // not exported
            case .boundedRegression:
                entry.scale = decoder.scale
            case .regression:
                (entry.mean, entry.deviation) = (decoder.mean, decoder.deviation)
            }
            return entry
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        }
        entries = [("flowtrain.flow", flow.flow.name), ("flowtrain.version", FlowtrainVersion.current),
                   ("flowtrain.inputs", json(inputs)), ("flowtrain.tasks", json(taskEntries))]
    }
}
