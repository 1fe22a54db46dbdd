import FileFormats
import FlowSpec
import Tasks
import Training

/// `predictions.csv` (docs/run-directory.md): a row per data row — `row`, the 0-based data row in its
/// CSV file — then per task, in the flow's order, `<path>.decoded` and `<path>.activated`,
/// blank where the task was not reached, and `<path>.logits`, always filled (the head's raw
/// output, from which any metric can be recomputed under either precondition view). Lists
/// (class probabilities, labels) are `|`-joined in the class order of `state.json`; numbers
/// are written so that they read back as the same float.
public enum PredictionTable {
    ///
    /// A token classification writes per token of the text (up to `max_length`), tokens
    /// separated by spaces: its class in `.decoded` (`O B-PER I-PER`), its probabilities
    /// (`|`-joined) in `.activated`, its logits in `.logits`. A masked language model, which
    /// trains a trunk and predicts nothing a user asks for, has no columns.
    public static func csv(_ predictions: SplitPredictions, tree: [TaskTreeNode]) -> CSVWriter {
        let order = fileOrder(tree).filter { predictions.tasks[$0].spec.type != .maskedLanguageModel }
        var header = ["row"]
        for t in order {
            let path = predictions.tasks[t].path.description
            header += ["\(path).decoded", "\(path).activated", "\(path).logits"]
        }
        var csv = CSVWriter(header: header)
        let split = predictions.outputs.split
        for r in 0..<split.rows {
            var fields = [String(split.sourceRows[r])]
            for t in order {
                let output = predictions.decoded[t][r]
                let logits = predictions.outputs.logits(t, r)
                if let tokens = predictions.outputs.tokens(t, r) {
                    let width = predictions.decoders[t].output.units
                    if predictions.reached[t][r] {
                        fields += [predictions.decoders[t].text(output.value), perToken(output.activated[...], width, tokens)]
                    } else {
                        fields += ["", ""]
                    }
                    fields.append(perToken(logits, width, tokens))
                    continue
                }
                if predictions.reached[t][r] {
                    fields += [predictions.decoders[t].text(output.value), list(output.activated[...])]
                } else {
                    fields += ["", ""]
                }
                fields.append(list(logits))
            }
            csv.append(fields)
        }
        return csv
    }

    /// Task indices in the order the flow file writes them (depth first).
    public static func fileOrder(_ tree: [TaskTreeNode]) -> [Int] {
        tree.flatMap { node -> [Int] in
            switch node {
            case .task(let index): [index]
            case .flow(_, _, let children): fileOrder(children)
            }
        }
    }

    static func list(_ values: ArraySlice<Float>) -> String {
        values.map { "\($0)" }.joined(separator: "|")
    }

    /// The first `tokens` groups of `width` values, each `|`-joined, separated by spaces.
    static func perToken(_ values: ArraySlice<Float>, _ width: Int, _ tokens: Int) -> String {
        (0..<min(tokens, values.count / max(width, 1))).map { p in
            list(values[(values.startIndex + p * width)..<(values.startIndex + (p + 1) * width)])
        }.joined(separator: " ")
    }
}
