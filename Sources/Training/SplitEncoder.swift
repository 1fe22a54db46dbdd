import Dispatch
import FlowSpec
import Foundation

/// Learns `DataStatistics` from the training rows, then encodes any split with them: inputs
/// normalised or indexed, labels parsed, and masks from the flow's preconditions on the labels.
public struct SplitEncoder: Sendable {
    let flow: ResolvedFlow
    private(set) var statistics = DataStatistics()
    private let markers: Set<String>

    /// Encodes with statistics learnt before (a run's `state.json`).
    init(flow: ResolvedFlow, statistics: DataStatistics) {
        self.flow = flow
        self.statistics = statistics
        markers = Set(flow.flow.data.missingMarkers)
    }

    init(flow: ResolvedFlow, train: CSVTable, trainRows: [Int]) throws(DataError) {
        self.flow = flow
        markers = Set(flow.flow.data.missingMarkers)
        for input in flow.inputs.map(\.input) {
            switch input.kind {
            case let .numeric(selection, normalize, missing):
                statistics.numeric[input.name] = try numericStatistics(input, selection, normalize, missing, train, trainRows)
            case .category(_, let minCount):
                let column = try columnIndex(train, input.column)
                var counts: [String: Int] = [:]
                for row in trainRows { counts[train.string(row: row, column: column), default: 0] += 1 }
                statistics.vocabularies[input.name] = ["<unknown>"] + counts.filter { $0.value >= minCount }.keys.sorted()
            case .tokens(_, let minCount):
                let column = try columnIndex(train, input.column)
                var counts: [String: Int] = [:]
                for row in trainRows {
                    for token in train.string(row: row, column: column).split(whereSeparator: \.isWhitespace) {
                        counts[String(token), default: 0] += 1
                    }
                }
                statistics.vocabularies[input.name] = ["<pad>", "<unknown>"] + counts.filter { $0.value >= minCount }.keys.sorted()
            case .image:
                break
            }
        }
        for task in flow.tasks {
            let path = task.path.description
            let column = try columnIndex(train, path)
            let present = trainRows.filter { !isMissing(train, $0, column) }
            switch task.spec.type {
            case .classification, .tokenClassification:
                statistics.classes[path] = task.spec.classes?.value
                    ?? Set(present.map { train.string(row: $0, column: column) }).sorted()
            case .multilabel:
                statistics.classes[path] = task.spec.classes?.value
                    ?? Set(present.flatMap { Labels.multilabel(train.string(row: $0, column: column)) }).sorted()
            case .regression:
                let values = present.compactMap { train.number(row: $0, column: column) }
                let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
                let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
                statistics.regression[path] = Standardization(mean: mean, deviation: variance > 0 ? variance.squareRoot() : 1)
            case .binary, .boundedRegression:
                break
            }
        }
    }

    private func isMissing(_ table: CSVTable, _ row: Int, _ column: Int) -> Bool {
        markers.contains(table.string(row: row, column: column))
    }

    private func columnIndex(_ table: CSVTable, _ name: String) throws(DataError) -> Int {
        guard let index = table.column(name) else {
            throw DataError(file: table.file, line: 1, message: "has no column '\(name)'"
                            + (Suggestion.hint(for: name, among: table.header).map { " (\($0))" } ?? ""))
        }
        return index
    }

    private func numericStatistics(_ input: Input, _ selection: ColumnSelection, _ normalize: Normalization,
                                   _ missing: MissingValues, _ train: CSVTable,
                                   _ rows: [Int]) throws(DataError) -> NumericStatistics {
        let columns: [String]
        switch selection {
        case .names(let names): columns = names
        case .pattern(let glob):
            columns = train.header.filter { fnmatch(glob, $0, 0) == 0 }
            guard !columns.isEmpty else {
                throw DataError(file: train.file, line: 1, message: "has no column matching '\(glob)' (input '\(input.name)')")
            }
        }
        var stats = NumericStatistics(columns: columns, indicators: [], offsets: [], scales: [], means: [])
        for name in columns {
            let column = try columnIndex(train, name)
            var values: [Double] = []
            var hadMissing = false
            for row in rows {
                if let value = train.number(row: row, column: column) {
                    values.append(value)
                } else if train.string(row: row, column: column).trimmingCharacters(in: .whitespaces).isEmpty {
                    hadMissing = true
                }  // anything else is reported, with the split's other problems, when it is encoded
            }
            if hadMissing, missing == .mean { stats.indicators.append(name) }
            let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            let deviation = values.isEmpty ? 1 : (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
            let low = values.min() ?? 0, high = values.max() ?? 1
            switch normalize {
            case .standard:
                stats.offsets.append(Float(mean))
                stats.scales.append(Float(deviation > 0 ? deviation : 1))
            case .minmax:
                stats.offsets.append(Float(low))
                stats.scales.append(Float(high > low ? high - low : 1))
            case .none:
                stats.offsets.append(0)
                stats.scales.append(1)
            }
            stats.means.append(Float(mean))
        }
        return stats
    }

    /// Whether every task's label column must be in the file.
    public enum LabelColumns: Sendable {
        case required
        /// A missing label column is a label missing on every row (unlabelled data).
        case optional
        /// Labels are not read at all, even where there are columns for them (`predict`).
        case ignored
    }

    /// Encodes `rows` of `table` as split `name`.
    func encode(_ name: String, _ table: CSVTable, rows: [Int],
                labels: LabelColumns = .required) throws(DataError) -> EncodedSplit {
        // Each input and each task's labels are independent columns: one job each, on the cores
        // there are, each job with its own problems (put in file order at the end).
        let inputList = flow.inputs.map(\.input)
        let jobs = EncodingJobs(inputs: inputList.count, tasks: flow.tasks.count)
        DispatchQueue.concurrentPerform(iterations: inputList.count + flow.tasks.count) { job in
            var problems = DataProblems()
            do throws(DataError) {
                if job < inputList.count {
                    let encoded = try encodeInput(inputList[job], table, rows, &problems)
                    jobs.finish(job, problems) { $0.inputs[job] = encoded }
                } else {
                    // Labels: the value preconditions read (binary 0/1, class index) and the targets.
                    let encoded = try encodeLabels(flow.tasks[job - inputList.count], table, rows, labels, &problems)
                    jobs.finish(job, problems) { $0.labels[job - inputList.count] = encoded }
                }
            } catch {
                jobs.fail(job, error)
            }
        }
        if let error = jobs.failures.compactMap({ $0 }).first { throw error }
        var problems = DataProblems()
        for jobProblems in jobs.problems { problems.add(contentsOf: jobProblems) }
        try problems.check()
        var inputs: [String: EncodedInput] = [:]
        for (input, encoded) in zip(inputList, jobs.inputs) { inputs[input.name] = encoded }
        let values = jobs.labels.map { $0?.0 ?? [] }
        let targets = jobs.labels.map { $0?.1 ?? [] }
        let counts = PreconditionMask(tasks: flow.tasks, classes: statistics.facts.classes)
            .counts(rows: rows.count) { values[$0][$1] }
        let masks = zip(flow.tasks, counts).map { task, counted -> [Float] in
            let width = task.spec.type == .multilabel ? statistics.classes[task.path.description]?.count ?? 1 : 1
            return counted.flatMap { [Float](repeating: $0 ? 1 : 0, count: width) }
        }
        return EncodedSplit(name: name, rows: rows.count, file: table.file, sourceRows: rows, inputs: inputs, targets: targets, masks: masks, counts: counts,
                            present: values.map { $0.map { $0 != nil } })
    }

    /// Encodes one input; problems in its fields are added to `problems` and read as zero.
    private func encodeInput(_ input: Input, _ table: CSVTable, _ rows: [Int],
                             _ problems: inout DataProblems) throws(DataError) -> EncodedInput {
        switch input.kind {
        case .numeric(_, _, let missing):
            let stats = statistics.numeric[input.name]!
            let indices = try stats.columns.map { name throws(DataError) in try columnIndex(table, name) }
            let width = stats.columns.count + stats.indicators.count
            var values = [Float](repeating: 0, count: rows.count * width)
            for (r, row) in rows.enumerated() {
                for (c, column) in indices.enumerated() {
                    var value: Float
                    if let number = table.number(row: row, column: column) {
                        value = Float(number)
                    } else if table.string(row: row, column: column).trimmingCharacters(in: .whitespaces).isEmpty {
                        switch missing {
                        case .mean: value = stats.means[c]
                        case .zero: value = 0
                        case .error:
                            problems.add(DataError(table, row: row, column: column,
                                                   message: "is empty, and input '\(input.name)' says missing: error"))
                            value = 0
                        }
                        if let indicator = stats.indicators.firstIndex(of: stats.columns[c]) {
                            values[r * width + stats.columns.count + indicator] = 1
                        }
                    } else {
                        problems.add(DataError(table, row: row, column: column,
                                               message: "'\(table.string(row: row, column: column))' is not a finite number"))
                        value = 0
                    }
                    values[r * width + c] = (value - stats.offsets[c]) / stats.scales[c]
                }
            }
            return .floats(values, sampleSize: width)
        case .category(let encoding, _):
            let column = try columnIndex(table, input.column)
            let vocabulary = statistics.vocabularies[input.name]!
            let index = Dictionary(vocabulary.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let ids = rows.map { index[table.string(row: $0, column: column)] ?? 0 }
            switch encoding {
            case .embedding: return .floats(ids.map(Float.init), sampleSize: 1)
            case .oneHot:
                var values = [Float](repeating: 0, count: rows.count * vocabulary.count)
                for (r, id) in ids.enumerated() { values[r * vocabulary.count + id] = 1 }
                return .floats(values, sampleSize: vocabulary.count)
            }
        case .tokens(let maxLength, _):
            let column = try columnIndex(table, input.column)
            let vocabulary = statistics.vocabularies[input.name]!
            let index = Dictionary(vocabulary.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            var values = [Float](repeating: 0, count: rows.count * maxLength)
            for (r, row) in rows.enumerated() {
                let tokens = table.string(row: row, column: column).split(whereSeparator: \.isWhitespace).prefix(maxLength)
                for (t, token) in tokens.enumerated() { values[r * maxLength + t] = Float(index[String(token)] ?? 1) }
            }
            return .floats(values, sampleSize: maxLength)
        case let .image(height, width, channels, resize):
            return try decodeImages(input, table, rows, height: height, width: width, channels: channels, resize: resize,
                                    &problems)
        }
    }

    /// Decodes every image once, in parallel, and keeps its bytes.
    private func decodeImages(_ input: Input, _ table: CSVTable, _ rows: [Int], height: Int, width: Int,
                              channels: Int, resize: Bool, _ problems: inout DataProblems) throws(DataError) -> EncodedInput {
        let column = try columnIndex(table, input.column)
        let directory = URL(fileURLWithPath: table.file).deletingLastPathComponent()
        let size = height * width * channels
        // Each worker writes only its own rows' bytes.
        nonisolated(unsafe) let pixels = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: rows.count * size)
        defer { pixels.deallocate() }
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: rows.count) { r in
            let row = rows[r]
            let name = table.string(row: row, column: column)
            let path = name.hasPrefix("/") ? name : directory.appendingPathComponent(name).path
            do throws(PNGError) {
                var image = try PNGImage.read(path: path, channels: channels)
                if image.width != width || image.height != height {
                    guard resize else {
                        failures.add(DataError(table, row: row, column: column,
                                               message: "image \(name) is \(image.width)×\(image.height), input '\(input.name)' "
                                                   + "expects \(width)×\(height) (or add resize: true)"))
                        return
                    }
                    image = image.resized(width: width, height: height)
                }
                _ = UnsafeMutableBufferPointer(rebasing: pixels[(r * size)..<((r + 1) * size)]).initialize(from: image.pixels)
            } catch {
                failures.add(DataError(table, row: row, column: column, message: error.description))
            }
        }
        for failure in failures.all { problems.add(failure) }
        return .bytes(Array(pixels), sampleSize: size)
    }

    /// A task's labels; a label that cannot be read is added to `problems` and counts as missing.
    private func encodeLabels(_ task: ResolvedTask, _ table: CSVTable, _ rows: [Int], _ labels: LabelColumns,
                              _ problems: inout DataProblems) throws(DataError) -> ([Float?], [Float]) {
        let path = task.path.description
        let classes = statistics.classes[path] ?? []
        if labels == .ignored || (labels == .optional && table.column(path) == nil) {
            let width = task.spec.type == .multilabel ? classes.count : 1
            return ([Float?](repeating: nil, count: rows.count), [Float](repeating: 0, count: rows.count * width))
        }
        let column = try columnIndex(table, path)
        var values: [Float?] = []
        var targets: [Float] = []
        let classIndex = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // Markers, 0/1 and numbers are compared and parsed as bytes: a String is made only for
        // the cells that need one (class names, other spellings, error messages).
        let markerBytes = markers.map { Array($0.utf8) }
        let one: [UInt8] = [0x31], zero: [UInt8] = [0x30]
        for row in rows {
            lazy var text = table.string(row: row, column: column)
            let width = task.spec.type == .multilabel ? classes.count : 1
            func fail(_ message: String) {
                problems.add(DataError(table, row: row, column: column, message: message))
                values.append(nil)
                targets += [Float](repeating: 0, count: width)
            }
            guard !markerBytes.contains(where: { table.field(row: row, column: column, equals: $0) }) else {
                values.append(nil)
                targets += [Float](repeating: 0, count: width)
                continue
            }
            switch task.spec.type {
            case .binary:
                let value: Float? = table.field(row: row, column: column, equals: one) ? 1
                    : table.field(row: row, column: column, equals: zero) ? 0 : Labels.binary(text)
                guard let value else {
                    fail("'\(text)' is not a binary label; write 1/0, true/false or yes/no")
                    continue
                }
                values.append(value)
                targets.append(value)
            case .classification:
                guard let index = classIndex[text] else {
                    let hint = Suggestion.hint(for: text, among: classes).map { " (\($0))" } ?? ""
                    fail("class '\(text)' is not among \(task.spec.classes == nil ? "the training split's" : "the listed") classes"
                         + hint)
                    continue
                }
                values.append(Float(index))
                targets.append(Float(index))
            case .multilabel:
                var row = [Float](repeating: 0, count: classes.count)
                let names = Labels.multilabel(text)
                if let unknown = names.first(where: { classIndex[$0] == nil }) {
                    let hint = Suggestion.hint(for: unknown, among: classes).map { " (\($0))" } ?? ""
                    fail("label '\(unknown)' is not among the labels" + hint)
                    continue
                }
                for name in names { row[classIndex[name]!] = 1 }
                values.append(1)
                targets += row
            case .boundedRegression, .regression:
                guard let number = table.number(row: row, column: column) else {
                    fail("'\(text)' is not a finite number")
                    continue
                }
                values.append(Float(number))
                if task.spec.type == .boundedRegression {
                    targets.append(Float(number / task.spec.scale))
                } else {
                    let standard = statistics.regression[path]!
                    targets.append(Float((number - standard.mean) / standard.deviation))
                }
            case .tokenClassification:
                throw DataError(table, row: row, column: column,
                                message: "token_classification trains with sequence layers, which come in a later version")
            }
        }
        return (values, targets)
    }
}

/// What the parallel jobs of `SplitEncoder.encode` produce, each job writing its own slots.
private final class EncodingJobs: @unchecked Sendable {
    private let lock = NSLock()
    var inputs: [EncodedInput?]
    var labels: [([Float?], [Float])?]
    var problems: [DataProblems]
    var failures: [DataError?]

    init(inputs: Int, tasks: Int) {
        self.inputs = Array(repeating: nil, count: inputs)
        labels = Array(repeating: nil, count: tasks)
        problems = Array(repeating: DataProblems(), count: inputs + tasks)
        failures = Array(repeating: nil, count: inputs + tasks)
    }

    func finish(_ job: Int, _ found: DataProblems, _ store: (EncodingJobs) -> Void) {
        lock.lock()
        store(self)
        problems[job] = found
        lock.unlock()
    }

    func fail(_ job: Int, _ error: DataError) {
        lock.lock()
        failures[job] = error
        lock.unlock()
    }
}

/// Problems found by parallel workers (`DataProblems` puts them in file order).
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [DataError] = []

    func add(_ error: DataError) {
        lock.lock()
        failures.append(error)
        lock.unlock()
    }

    var all: [DataError] { failures }
}
