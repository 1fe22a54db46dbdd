import FileFormats

/// What `flowtrain init` makes of a column that is not a target (docs/commands/init.md):
/// - image paths (`.png`, `.jpg`, `.jpeg`): an `image` input, shaped as the first file;
/// - numbers: a column of the one `numeric` input (an ID is left out: a whole number unique
///   to each row with none missing);
/// - text of `tokensFromWords` words or more on average: a `tokens` input;
/// - other text: a `category` input when its values repeat (one-hot up to `oneHotAtMost`
///   values, else an embedding whose width grows with their number), left out when each row
///   has its own (an ID) or there are more than `ColumnProfile.countedValues`;
/// - a column with one value, or none, is left out.
enum InputGuess: Equatable {
    case numeric
    case image(height: Int, width: Int, channels: Int)
    case tokens(maxLength: Int)
    case category(values: Int, embedding: Int?)
    /// Left out, and why.
    case leftOut(String)

    static let tokensFromWords = 3.0
    static let oneHotAtMost = 10

    /// The input `profile`'s column makes; `imageShape` reads an image file's shape (the path
    /// as written in the CSV).
    static func guess(_ profile: ColumnProfile,
                      imageShape: (String) throws(Problem) -> (height: Int, width: Int, channels: Int)) throws(Problem) -> InputGuess {
        if profile.presentCount == 0 { return .leftOut("every cell is empty") }
        if profile.distinctCount == 1 {
            let value = profile.firstValue ?? ""
            return .leftOut(profile.missingCount == 0 ? "constant: every row holds '\(value)'"
                                                      : "one value, '\(value)', and \(profile.missingCount) empty cells")
        }
        if profile.allImagePaths, let first = profile.firstValue {
            let shape = try imageShape(first)
            return .image(height: shape.height, width: shape.width, channels: shape.channels)
        }
        if let numbers = profile.numbers {
            if numbers.integers, profile.distinctCount == profile.rows {
                return .leftOut("an ID: a different whole number in every row")
            }
            return .numeric
        }
        if profile.meanWords >= tokensFromWords {
            // Long enough for nearly every text: the longest, up to 512 words.
            return .tokens(maxLength: min(512, max(8, profile.mostWords)))
        }
        if profile.distinctCount == profile.presentCount, profile.missingCount == 0 {
            return .leftOut("an ID: a different value in every row")
        }
        if profile.manyValues {
            return .leftOut("more than \(ColumnProfile.countedValues) distinct values; a category input with min_count could read it")
        }
        let values = profile.distinctCount + (profile.missingCount > 0 ? 1 : 0)
        return .category(values: values, embedding: values <= oneHotAtMost ? nil : embeddingWidth(values))
    }

    /// fastai's rule of thumb for an embedding's width, 1.6·n^0.56, at most 32.
    static func embeddingWidth(_ values: Int) -> Int {
        min(32, max(2, Int((1.6 * pow(Double(values), 0.56)).rounded())))
    }
}

import Foundation
