import FlowSpec

/// How a tokens input's text becomes ids (`tokenize:`, `lowercase:`, `min_count:`,
/// `max_vocabulary:`): the one place that splits text, so that training and every later
/// command read a cell alike.
///
/// The vocabulary starts with the reserved ids (`TokenSettings.reserved`: padding 0, unknown
/// 1, mask 2); a token written like a reserved one (`<pad>` in the text) is not one of them
/// and reads as unknown.
struct Tokenizer {
    let settings: TokenSettings

    /// Every token of `text`, in order (the caller cuts them to `maxLength`).
    func tokens(of text: String) -> [String] {
        let text = settings.lowercase ? text.lowercased() : text
        switch settings.split {
        case .whitespace: return text.split(whereSeparator: \.isWhitespace).map(String.init)
        case .characters: return text.map(String.init)
        }
    }

    /// The vocabulary from the training split's token counts: the reserved ids, then the tokens
    /// seen at least `minCount` times, sorted. With `maxVocabulary`, only the most frequent
    /// fit (ties go to the token that sorts first, so the choice does not depend on the order
    /// the rows were counted in).
    func vocabulary(counts: [String: Int]) -> [String] {
        let reserved = TokenSettings.reserved
        var kept = counts.filter { $0.value >= settings.minCount && !reserved.contains($0.key) }.map { ($0.key, $0.value) }
        if let limit = settings.maxVocabulary, kept.count > limit - reserved.count {
            kept.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            kept = Array(kept.prefix(limit - reserved.count))
        }
        return reserved + kept.map(\.0).sorted()
    }

    /// Each token's id, the reserved ids left out: a text's `<pad>` is a token, not padding.
    static func index(_ vocabulary: [String]) -> [String: Int] {
        Dictionary(vocabulary.enumerated().dropFirst(TokenSettings.reserved.count).map { ($1, $0) },
                   uniquingKeysWith: { first, _ in first })
    }

    /// The ids of `text`'s first `maxLength` tokens into `ids` (which holds `maxLength` zeros:
    /// the positions after the text stay padding); a token outside `index` is unknown.
    func encode(_ text: String, index: [String: Int], into ids: UnsafeMutableBufferPointer<Float>) {
        for (t, token) in tokens(of: text).prefix(settings.maxLength).enumerated() {
            ids[t] = Float(index[token] ?? TokenSettings.unknownID)
        }
    }
}
