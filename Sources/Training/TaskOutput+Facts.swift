import FlowSpec
import Tasks

extension TaskOutput {
    /// The output of `task` as the data shaped it: its classes or labels as the training split
    /// found them (or as the flow lists them), a masked language model's vocabulary, and the
    /// sequence's positions for both token tasks. The one place that decides a task's target and mask widths, for the
    /// compiler and the encoder.
    init(_ task: ResolvedTask, facts: DataFacts) {
        var positions = 1
        if task.spec.type == .tokenClassification || task.spec.type == .maskedLanguageModel,
           case .sequence(let length, _) = task.output {
            positions = length
        }
        let classes = task.spec.type == .maskedLanguageModel ? task.tokensInput.flatMap { facts.vocabularySize[$0] }
            : facts.classes[task.path]?.count ?? task.spec.classes?.value.count
        self.init(type: task.spec.type, classCount: classes ?? 1, positions: positions)
    }
}
