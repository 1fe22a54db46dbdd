import FlowSpec
import Tasks

extension TaskOutput {
    /// The output of `task` as the data shaped it: its classes or labels as the training split
    /// found them (or as the flow lists them), and `positions` for token classification. The
    /// one place that decides a task's target and mask widths, for the compiler and the encoder.
    init(_ task: ResolvedTask, facts: DataFacts, positions: Int = 1) {
        self.init(type: task.spec.type,
                  classCount: facts.classes[task.path]?.count ?? task.spec.classes?.value.count ?? 1,
                  positions: task.spec.type == .tokenClassification ? positions : 1)
    }
}
