import Engine
import FlowSpec

/// Random inputs and labels of a compiled model's shapes, for `bench` and tests: labels of the
/// right kind per task, a fraction missing, and masks that follow the flow's preconditions
/// exactly as real labels would.
public enum SyntheticBatch {
    public static func fill(_ model: CompiledModel, batch: Int, facts: DataFacts, seed: UInt64,
                            missingRate: Float = 0.1) {
        var random = Random(seed: seed)
        for (name, tensor) in model.inputs.sorted(by: { $0.key < $1.key }) {
            let values = tensor.values(batch: batch)
            let input = model.inputKinds[name]
            switch input {
            case .image?:
                for i in values.indices { values[i] = random.uniform() }
            case .tokens?:
                // Texts of every length up to the input's, then padding, as real ones encode.
                let vocabulary = facts.vocabularySize[name] ?? 1, length = tensor.sampleSize
                let first = TokenSettings.reserved.count, words = vocabulary - first
                values.update(repeating: Float(TokenSettings.paddingID))
                for row in 0..<batch {
                    for t in 0..<Int(random.uniform() * Float(length + 1)) {
                        values[row * length + t] = words > 0 ? Float(first + Int(random.uniform() * Float(words)))
                            : Float(TokenSettings.unknownID)
                    }
                }
            case .category(.embedding, _)?:
                let vocabulary = facts.vocabularySize[name] ?? 1
                for i in values.indices { values[i] = Float(Int(random.uniform() * Float(vocabulary))) }
            case .category(.oneHot, _)?:
                values.update(repeating: 0)
                for row in 0..<batch { values[row * tensor.sampleSize + Int(random.uniform() * Float(tensor.sampleSize))] = 1 }
            case .numeric?, nil:
                for i in values.indices { values[i] = random.normal() }
            }
        }
        // One label per task and row (nil: missing), then the masks the preconditions give.
        var labels: [[Float?]] = []
        for task in model.tasks {
            let classes = Float(task.output.classCount)
            labels.append((0..<batch).map { _ -> Float? in
                guard random.uniform() >= missingRate else { return nil }
                switch task.task.spec.type {
                case .binary: return random.uniform() < 0.5 ? 0 : 1
                case .classification: return Float(Int(random.uniform() * classes))
                default: return 0
                }
            })
        }
        let counts = PreconditionMask(tasks: model.tasks.map(\.task), classes: facts.classes)
            .counts(rows: batch) { labels[$0][$1] }
        for (t, task) in model.tasks.enumerated() {
            let targets = task.targets.values(batch: batch), mask = task.mask.values(batch: batch)
            let width = task.targets.sampleSize
            let ids = task.task.tokensInput.flatMap { model.inputs[$0]?.values(batch: batch) }
            for row in 0..<batch {
                for j in 0..<width {
                    let i = row * width + j
                    mask[i] = counts[t][row] ? 1 : 0
                    targets[i] = switch task.task.spec.type {
                    case .binary, .classification: labels[t][row] ?? 0
                    case .multilabel: random.uniform() < 0.3 ? 1 : 0
                    case .boundedRegression: random.uniform()
                    case .regression: random.normal()
                    case .tokenClassification, .maskedLanguageModel: Float(Int(random.uniform() * Float(task.output.classCount)))
                    }
                    // Token tasks count the positions that hold a token; a masked language
                    // model its share of them.
                    if let ids, ids[i] == Float(TokenSettings.paddingID) { mask[i] = 0 }
                    if task.task.spec.type == .maskedLanguageModel, random.uniform() >= Float(task.task.spec.maskRate) {
                        mask[i] = 0
                    }
                }
            }
        }
    }
}
