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
        // Each input's and each task's statistics are a job of their own, on the cores there are.
        let inputs = flow.inputs.map(\.input)
        let learnt = ParallelJobs<(inout DataStatistics) -> Void>(count: inputs.count + flow.tasks.count)
        let encoder = self
        DispatchQueue.concurrentPerform(iterations: inputs.count + flow.tasks.count) { job in
            learnt.run(job) { () throws(DataError) in
                job < inputs.count ? try encoder.inputStatistics(inputs[job], train, trainRows)
                    : try encoder.taskStatistics(flow.tasks[job - inputs.count], train, trainRows)
            }
        }
        for store in try learnt.results() { store(&statistics) }
    }

    /// What the training rows teach about one input, as a change to the statistics.
    private func inputStatistics(_ input: Input, _ train: CSVTable,
                                 _ rows: [Int]) throws(DataError) -> (inout DataStatistics) -> Void {
        switch input.kind {
        case let .numeric(selection, normalize, missing):
            let numeric = try numericStatistics(input, selection, normalize, missing, train, rows)
            return { $0.numeric[input.name] = numeric }
        case .category(_, let minCount):
            let counts = valueCounts(train, try columnIndex(train, input.column), rows)
            let vocabulary = ["<unknown>"] + counts.filter { $0.value >= minCount }.keys.sorted()
            return { $0.vocabularies[input.name] = vocabulary }
        case .tokens(_, let minCount):
            let column = try columnIndex(train, input.column)
            var counts: [String: Int] = [:]
            for row in rows {
                for token in train.string(row: row, column: column).split(whereSeparator: \.isWhitespace) {
                    counts[String(token), default: 0] += 1
                }
            }
            let vocabulary = ["<pad>", "<unknown>"] + counts.filter { $0.value >= minCount }.keys.sorted()
            return { $0.vocabularies[input.name] = vocabulary }
        case .image:
            return { _ in }
        }
    }

    /// What the training rows teach about one task's labels (classes, standardisation).
    private func taskStatistics(_ task: ResolvedTask, _ train: CSVTable,
                                _ rows: [Int]) throws(DataError) -> (inout DataStatistics) -> Void {
        let path = task.path.description
        let column = try columnIndex(train, path)
        let markerBytes = markers.map { Array($0.utf8) }
        let present = rows.filter { row in !markerBytes.contains { train.field(row: row, column: column, equals: $0) } }
        switch task.spec.type {
        case .classification, .tokenClassification:
            let classes = task.spec.classes?.value ?? valueCounts(train, column, present).keys.sorted()
            return { $0.classes[path] = classes }
        case .multilabel:
            let classes = task.spec.classes?.value
                ?? Set(present.flatMap { Labels.multilabel(train.string(row: $0, column: column)) }).sorted()
            return { $0.classes[path] = classes }
        case .regression:
            let values = present.compactMap { train.number(row: $0, column: column) }
            let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
            let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            let standard = Standardization(mean: mean, deviation: variance > 0 ? variance.squareRoot() : 1)
            return { $0.regression[path] = standard }
        case .binary, .boundedRegression:
            return { _ in }
        }
    }

    /// How often each value of a column occurs on `rows`. Values are told apart as bytes, then
    /// merged as Strings, so that two spellings String equality deems equal count as one.
    private func valueCounts(_ table: CSVTable, _ column: Int, _ rows: [Int]) -> [String: Int] {
        var index = FieldValueIndex()
        var counts: [Int] = []
        for row in rows {
            let id = table.withBytes(row: row, column: column) { index.insert($0) }
            if id == counts.count { counts.append(0) }
            counts[id] += 1
        }
        var byName: [String: Int] = [:]
        for id in 0..<index.count { byName[index.string(id), default: 0] += counts[id] }
        return byName
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
                } else if train.isBlank(row: row, column: column) {
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
        let jobs = ParallelJobs<(EncodedColumn, DataProblems)>(count: inputList.count + flow.tasks.count)
        let encoder = self
        DispatchQueue.concurrentPerform(iterations: inputList.count + flow.tasks.count) { job in
            jobs.run(job) { () throws(DataError) in
                var problems = DataProblems()
                if job < inputList.count {
                    return (.input(try encoder.encodeInput(inputList[job], table, rows, &problems)), problems)
                }
                // Labels: the value preconditions read (binary 0/1, class index) and the targets.
                let (values, targets) = try encoder.encodeLabels(flow.tasks[job - inputList.count], table, rows, labels,
                                                                 &problems)
                return (.labels(values: values, targets: targets), problems)
            }
        }
        var problems = DataProblems()
        var inputs: [String: EncodedInput] = [:]
        var values: [[Float?]] = [], targets: [[Float]] = []
        for (job, (column, found)) in try jobs.results().enumerated() {
            problems.add(contentsOf: found)
            switch column {
            case .input(let encoded): inputs[inputList[job].name] = encoded
            case let .labels(taskValues, taskTargets):
                values.append(taskValues)
                targets.append(taskTargets)
            }
        }
        try problems.check()
        let counts = PreconditionMask(tasks: flow.tasks, classes: statistics.facts.classes).counts(values: values)
        let masks = zip(flow.tasks, counts).map { task, counted -> [Float] in
            let width = task.spec.type == .multilabel ? statistics.classes[task.path.description]?.count ?? 1 : 1
            var mask = [Float](repeating: 0, count: counted.count * width)
            for (r, counts) in counted.enumerated() where counts {
                for j in 0..<width { mask[r * width + j] = 1 }
            }
            return mask
        }
        return EncodedSplit(name: name, rows: rows.count, file: table.file, sourceRows: rows, inputs: inputs,
                            targets: targets, masks: masks, counts: counts, present: values.map { $0.map { $0 != nil } })
    }

    /// What one encoding job makes: an input's values, or a task's label values and targets.
    private enum EncodedColumn {
        case input(EncodedInput)
        case labels(values: [Float?], targets: [Float])
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
                    } else if table.isBlank(row: row, column: column) {
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
            let lookup = ValueLookup(vocabulary)
            let ids = rows.map { lookup.index(table, row: $0, column: column) ?? 0 }
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
        let width = task.spec.type == .multilabel ? classes.count : 1
        var values = [Float?](repeating: nil, count: rows.count)
        var targets = [Float](repeating: 0, count: rows.count * width)
        let lookup = ValueLookup(classes)
        // Markers, 0/1, numbers and class names are compared and parsed as bytes: a String is
        // made only for the cells that need one (other spellings, error messages).
        let markerBytes = markers.map { Array($0.utf8) }
        let one: [UInt8] = [0x31], zero: [UInt8] = [0x30], none = Array("none".utf8)
        for (r, row) in rows.enumerated() {
            lazy var text = table.string(row: row, column: column)
            func fail(_ message: String) {
                problems.add(DataError(table, row: row, column: column, message: message))
            }
            guard !markerBytes.contains(where: { table.field(row: row, column: column, equals: $0) }) else { continue }
            switch task.spec.type {
            case .binary:
                let value: Float? = table.field(row: row, column: column, equals: one) ? 1
                    : table.field(row: row, column: column, equals: zero) ? 0 : Labels.binary(text)
                guard let value else {
                    fail("'\(text)' is not a binary label; write 1/0, true/false or yes/no")
                    continue
                }
                values[r] = value
                targets[r] = value
            case .classification:
                guard let index = lookup.index(table, row: row, column: column) else {
                    let hint = Suggestion.hint(for: text, among: classes).map { " (\($0))" } ?? ""
                    fail("class '\(text)' is not among \(task.spec.classes == nil ? "the training split's" : "the listed") classes"
                         + hint)
                    continue
                }
                values[r] = Float(index)
                targets[r] = Float(index)
            case .multilabel:
                // Names joined by `|`, `none` for the empty set (Labels.multilabel, read as bytes).
                var found: [Int] = [], unknown: String?
                if !table.field(row: row, column: column, equals: none) {
                    table.withBytes(row: row, column: column) { field in
                        for name in field.split(separator: 0x7C) where unknown == nil {
                            let bytes = UnsafeBufferPointer(rebasing: name)
                            if let index = lookup.index(bytes) { found.append(index) } else {
                                unknown = String(decoding: bytes, as: UTF8.self)
                            }
                        }
                    }
                }
                if let unknown {
                    let hint = Suggestion.hint(for: unknown, among: classes).map { " (\($0))" } ?? ""
                    fail("label '\(unknown)' is not among the labels" + hint)
                    continue
                }
                for index in found { targets[r * width + index] = 1 }
                values[r] = 1
            case .boundedRegression, .regression:
                guard let number = table.number(row: row, column: column) else {
                    fail("'\(text)' is not a finite number")
                    continue
                }
                values[r] = Float(number)
                if task.spec.type == .boundedRegression {
                    targets[r] = Float(number / task.spec.scale)
                } else {
                    let standard = statistics.regression[path]!
                    targets[r] = Float((number - standard.mean) / standard.deviation)
                }
            case .tokenClassification:
                throw DataError(table, row: row, column: column,
                                message: "token_classification trains with sequence layers, which come in a later version")
            }
        }
        return (values, targets)
    }
}

/// Results of jobs run at once on the cores there are, each job storing its own slot. The first
/// failure in job order is what `results()` throws, as a serial loop would have.
private final class ParallelJobs<Result>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result?]
    private var failures: [DataError?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        failures = Array(repeating: nil, count: count)
    }

    func run(_ job: Int, _ work: () throws(DataError) -> Result) {
        do throws(DataError) {
            let result = try work()
            lock.lock()
            slots[job] = result
            lock.unlock()
        } catch {
            lock.lock()
            failures[job] = error
            lock.unlock()
        }
    }

    func results() throws(DataError) -> [Result] {
        lock.lock()
        defer { lock.unlock() }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        return slots.map { $0! }
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
