import FlowSpec
import Tasks

/// What the model decides on every row of a split, and where each task is reached: its
/// composed precondition holds on the model's own decisions for the tasks it depends on (the
/// deployment view; an atom about a task that was not reached is unknown, docs/semantics.md).
public struct SplitPredictions {
    public let outputs: SplitOutputs
    public let decoders: [TaskDecoder]
    /// The tasks in model (evaluation) order.
    public let tasks: [ResolvedTask]
    /// `decoded[t][r]`: task t's activation and decision on row r, whether reached or not.
    public let decoded: [[DecodedOutput]]
    /// `reached[t][r]`: task t's precondition holds on the decoded outputs of row r.
    public let reached: [[Bool]]
    let mask: PreconditionMask

    public init(_ outputs: SplitOutputs, decoders: [TaskDecoder], tasks: [ResolvedTask],
                classes: [TaskPath: [String]]) {
        self.outputs = outputs
        self.decoders = decoders
        self.tasks = tasks
        let decoded = decoders.indices.map { t in
            (0..<outputs.split.rows).map { r in decoders[t].decode(outputs.logits(t, r), tokens: outputs.tokens(t, r)) }
        }
        self.decoded = decoded
        mask = PreconditionMask(tasks: tasks, classes: classes)
        reached = mask.counts(rows: outputs.split.rows) { t, r in decoded[t][r].decision }
    }

    /// Whether `condition` holds on row `r`'s decisions (a nested flow's own `when`).
    public func holds(_ condition: Condition<TaskPath>, row r: Int) -> Bool {
        mask.holds(condition, row: r, counts: reached) { t, r in decoded[t][r].decision }
    }

    /// Per task, the rows it counts on in the predicted view: label present and reached.
    public var predictedCounts: [[Bool]] {
        zip(outputs.split.present, reached).map { zip($0, $1).map { $0 && $1 } }
    }
}
