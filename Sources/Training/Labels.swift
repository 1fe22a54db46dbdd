import FlowSpec

/// How label cells read (docs/flow-format.md, "Label cells"): binary `1/0`, `true/false`,
/// `yes/no` (any case); classification any string; multilabel names joined by `|`, `none` for
/// the empty set; regressions numbers; token classification one class per token, separated by
/// whitespace. A cell equal to a missing-label marker is missing.
enum Labels {
    static func binary(_ text: String) -> Float? {
        switch text.lowercased() {
        case "1", "true", "yes": 1
        case "0", "false", "no": 0
        default: nil
        }
    }

    static func multilabel(_ text: String) -> [String] {
        text == "none" ? [] : text.split(separator: "|").map(String.init)
    }

    static func tokens(_ text: String) -> [String] {
        text.split(whereSeparator: \.isWhitespace).map(String.init)
    }
}
