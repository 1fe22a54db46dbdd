import FileFormats
import Foundation

/// What `flowtrain init` learns of one CSV column from its cells, in one pass: which rows hold a
/// value (a cell that is not a missing marker), whether every value is a number and their range,
/// the distinct values and how often each occurs, whether values are `|`-joined sets, how many
/// words they hold, and whether they are image paths. Input and task types are decided from it.
struct ColumnProfile {
    /// The most distinct values counted one by one; a column with more is only known to have more.
    static let countedValues = 1000

    let name: String
    /// The column's index in the header.
    let index: Int
    let rows: Int
    /// Per row: the cell holds a value.
    private(set) var present: [Bool]
    private(set) var presentCount = 0
    /// The values and their counts, while there are at most `countedValues` of them.
    private(set) var counts: [String: Int] = [:]
    /// More distinct values than `countedValues`.
    private(set) var manyValues = false
    /// How many distinct values (exact: told apart by a 64-bit hash of their bytes).
    private(set) var distinctCount = 0
    /// The smallest and largest value and whether all are whole numbers, when every value is a
    /// number; nil when one is not.
    private(set) var numbers: (min: Double, max: Double, integers: Bool)?
    /// Some value holds a `|` (a multilabel set).
    private(set) var hasSets = false
    /// The whitespace-separated words over all values, and the most in one value.
    private(set) var words = 0, mostWords = 0
    /// Every value ends in `.png`, `.jpg` or `.jpeg` (any letter case).
    private(set) var allImagePaths = true
    /// The first value, for paths to open and for constants to name.
    private(set) var firstValue: String?

    /// Profiles column `index` of `table`, where a cell equal to one of `missing` holds no value.
    init(_ table: CSVTable, column index: Int, missing: Set<String>) {
        name = table.header[index]
        self.index = index
        rows = table.rowCount
        present = [Bool](repeating: false, count: rows)
        var hashes = Set<Int>()
        var minimum = Double.infinity, maximum = -Double.infinity, integers = true, allNumbers = true
        for row in 0..<rows {
            let text = table.string(row: row, column: index)
            guard !missing.contains(text) else { continue }
            present[row] = true
            presentCount += 1
            if firstValue == nil { firstValue = text }
            hashes.insert(text.hashValue)
            if !manyValues {
                counts[text, default: 0] += 1
                if counts.count > Self.countedValues { manyValues = true; counts = [:] }
            }
            if allNumbers, let value = table.number(row: row, column: index) {
                minimum = Swift.min(minimum, value)
                maximum = Swift.max(maximum, value)
                integers = integers && value.rounded() == value
            } else {
                allNumbers = false
            }
            if text.contains("|") { hasSets = true }
            let wordCount = text.split(whereSeparator: \.isWhitespace).count
            words += wordCount
            mostWords = Swift.max(mostWords, wordCount)
            if allImagePaths {
                let lower = text.lowercased()
                allImagePaths = lower.hasSuffix(".png") || lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg")
            }
        }
        distinctCount = hashes.count
        if allNumbers, presentCount > 0 { numbers = (minimum, maximum, integers) }
        if presentCount == 0 { allImagePaths = false }
    }

    /// The mean number of words in a value.
    var meanWords: Double { presentCount == 0 ? 0 : Double(words) / Double(presentCount) }

    /// Rows whose cell is missing.
    var missingCount: Int { rows - presentCount }

    /// The values by how often they occur, most often first (ties in text order); empty when
    /// there are more than `countedValues`.
    var valuesByCount: [String] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
    }

    /// The value in `row` (nil when missing), read again from `table`.
    func value(_ table: CSVTable, row: Int) -> String? {
        present[row] ? table.string(row: row, column: index) : nil
    }
}
