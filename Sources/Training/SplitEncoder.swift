import Dispatch
import FileFormats
import FlowSpec
import Foundation
import ProcessGroups
import Tasks

/// Learns `DataStatistics` from the training rows, then encodes any split with them: inputs
/// normalised or indexed, labels parsed, and masks from the flow's preconditions on the labels.
public struct SplitEncoder: Sendable {
    let flow: ResolvedFlow
    private(set) var statistics = DataStatistics()
    private let markers: MissingLabelMarkers
    /// The training rows' numeric columns as parsed while learning their statistics, so that
    /// encoding the training split does not parse them again.
    private var trainNumbers = ParsedNumbers()

    /// Encodes with statistics learnt before (a run's `state.json`).
    init(flow: ResolvedFlow, statistics: DataStatistics) {
        self.flow = flow
        self.statistics = statistics
        markers = MissingLabelMarkers(flow.flow.data.missingMarkers)
    }

    /// Learns the statistics from `rows` of `train`: this process's part of the training rows
    /// when `processes` read the split in parts (each its part, in rank order).
    init(flow: ResolvedFlow, train: CSVTable, trainRows rows: [Int],
         processes: any ProcessGroup = SingleProcess()) throws(Problem) {
        self.flow = flow
        markers = MissingLabelMarkers(flow.flow.data.missingMarkers)
        let inputs = flow.inputs.map(\.input)
        // Every column is found first, so that a missing one is reported before any work.
        var inputColumns: [[Int]] = []
        for input in inputs {
            switch input.kind {
            case .numeric(let selection, _, _):
                let names = try Self.numericColumns(input, selection, train)
                inputColumns.append(try names.map { name throws(Problem) in try columnIndex(train, name) })
            case .category, .tokens:
                inputColumns.append([try columnIndex(train, input.column)])
            case .image:
                inputColumns.append([])
            }
        }
        let numericInputs = inputs.indices.filter { if case .numeric = inputs[$0].kind { true } else { false } }
        // A masked language model's labels are its input's text: it has no column (−1).
        let taskColumns = try flow.tasks.map { task throws(Problem) in
            task.spec.type == .maskedLanguageModel ? -1 : try columnIndex(train, task.path.description)
        }

        // Blocks of training rows on the cores there are, every column of a block in turn (as
        // `encode` does): numeric inputs parsed into one row-major array each, values counted.
        let parsed = ParsedNumbers(file: train.file, rows: rows,
                                   inputs: numericInputs.map { (inputs[$0].name, inputColumns[$0].count) })
        let blocks = stride(from: 0, to: rows.count, by: Self.blockRows).map { $0..<min($0 + Self.blockRows, rows.count) }
        let tallies = ParallelJobs<Tally>(count: blocks.count)
        let encoder = self, columns = inputColumns
        DispatchQueue.concurrentPerform(iterations: blocks.count) { b in
            tallies.run(b) { () throws(Problem) in
                encoder.tally(train, rows[blocks[b]], inputs: inputs, inputColumns: columns, taskColumns: taskColumns,
                              parsed: parsed)
            }
        }
        let blockTallies = try tallies.results()
        trainNumbers = parsed

        // With several processes each holds a part of the training rows, and the statistics are
        // the whole split's, equal to one process's (`ColumnSummary`, `OrderStatistics`,
        // `ValueCounts`).
        statistics.numeric = numericStatistics(numericInputs.map { (inputs[$0], inputColumns[$0]) }, parsed, train, rows,
                                               processes: processes)
        let regressionTasks = flow.tasks.indices.filter { flow.tasks[$0].spec.type == .regression }
        let regression = Self.summaries(regressionTasks.map { t in blockTallies.flatMap { $0.numbers[t] } }, processes)
        for (t, summary) in zip(regressionTasks, regression) {
            let variance = summary.count == 0 ? 0 : summary.squares / Double(summary.count)
            statistics.regression[flow.tasks[t].path.description] = Standardization(
                mean: summary.mean, deviation: variance > 0 ? variance.squareRoot() : 1)
        }
        var counts = ValueCounts(
            values: (0..<(inputs.count + flow.tasks.count)).map { slot in Self.merged(blockTallies.map { $0.values[slot] }) },
            labelNames: flow.tasks.indices.map { t in Array(blockTallies.reduce(into: Set<String>()) { $0.formUnion($1.labelNames[t]) }) })
        for (i, input) in inputs.enumerated() {
            guard case let .tokens(settings) = input.kind else { continue }
            let tokenizer = Tokenizer(settings: settings)
            for row in rows {
                for token in tokenizer.tokens(of: train.string(row: row, column: inputColumns[i][0])) {
                    counts.values[i][token, default: 0] += 1
                }
            }
        }
        counts = counts.merged(across: processes)
        for (i, input) in inputs.enumerated() {
            switch input.kind {
            case .category(_, let minCount):
                statistics.vocabularies[input.name] = ["<unknown>"] + counts.values[i].filter { $0.value >= minCount }.keys.sorted()
            case .tokens(let settings):
                statistics.vocabularies[input.name] = Tokenizer(settings: settings).vocabulary(counts: counts.values[i])
            case .numeric, .image:
                break
            }
        }
        for (t, task) in flow.tasks.enumerated() {
            let path = task.path.description
            switch task.spec.type {
            case .classification:
                statistics.classes[path] = task.spec.classes?.value ?? counts.values[inputs.count + t].keys.sorted()
            case .multilabel, .tokenClassification:
                statistics.classes[path] = task.spec.classes?.value ?? counts.labelNames[t].sorted()
            case .regression, .binary, .boundedRegression, .maskedLanguageModel:
                break
            }
        }
        var problems = DataProblems()
        for problem in ConditionClasses.unknown(in: flow, classes: statistics.facts.classes) { problems.add(problem) }
        try problems.check()
    }

    /// What one block of training rows holds: per category input and classification task (inputs
    /// first, then tasks), how often each value occurs; per multilabel task the label names; per
    /// regression task its numbers in row order. Numeric inputs go straight into `parsed`.
    private struct Tally {
        var values: [[String: Int]]
        var labelNames: [Set<String>]
        var numbers: [[Double]]
    }

    private func tally(_ train: CSVTable, _ rows: ArraySlice<Int>, inputs: [Input], inputColumns: [[Int]],
                       taskColumns: [Int], parsed: ParsedNumbers) -> Tally {
        var tally = Tally(values: Array(repeating: [:], count: inputs.count + flow.tasks.count),
                          labelNames: Array(repeating: [], count: flow.tasks.count),
                          numbers: Array(repeating: [], count: flow.tasks.count))
        train.withReader { reader in
            for (i, input) in inputs.enumerated() {
                switch input.kind {
                case .numeric:
                    // Row by row, the input's columns together: a row's fields lie side by side.
                    let columns = inputColumns[i], width = columns.count
                    parsed.fill(input.name, from: rows.startIndex) { numbers in
                        for (r, row) in rows.enumerated() {
                            for (c, column) in columns.enumerated() {
                                // A number float32 cannot hold is left out of the statistics
                                // too; encoding reports it.
                                numbers[r * width + c] = reader.number(row: row, column: column)
                                    .flatMap { Float($0).isFinite ? $0 : nil } ?? .nan
                            }
                        }
                    }
                case .category:
                    tally.values[i] = valueCounts(reader, inputColumns[i][0], rows)
                case .tokens, .image:
                    break
                }
            }
            for (t, task) in flow.tasks.enumerated() {
                let column = taskColumns[t]
                /// The rows whose label is not a missing-label marker.
                func present() -> [Int] {
                    rows.filter { row in !reader.withField(row: row, column: column) { markers.matches($0) } }
                }
                switch task.spec.type {
                case .classification:
                    if task.spec.classes == nil { tally.values[inputs.count + t] = valueCounts(reader, column, present()[...]) }
                case .tokenClassification:
                    if task.spec.classes == nil {
                        tally.labelNames[t] = Set(present().flatMap { Labels.tokens(train.string(row: $0, column: column)) })
                    }
                case .multilabel:
                    if task.spec.classes == nil {
                        tally.labelNames[t] = Set(present().flatMap { Labels.multilabel(train.string(row: $0, column: column)) })
                    }
                case .regression:
                    tally.numbers[t] = present().compactMap { reader.number(row: $0, column: column) }.filter { Float($0).isFinite }
                case .binary, .boundedRegression, .maskedLanguageModel:
                    break  // nothing to learn from the labels
                }
            }
        }
        return tally
    }

    /// Value counts of several blocks added up.
    private static func merged(_ counts: [[String: Int]]) -> [String: Int] {
        counts.reduce(into: [:]) { total, block in total.merge(block, uniquingKeysWith: +) }
    }

    /// How often each value of a column occurs on `rows`. Values are told apart as bytes, then
    /// merged as Strings, so that two spellings String equality deems equal count as one.
    private func valueCounts(_ reader: CSVTable.Reader, _ column: Int, _ rows: ArraySlice<Int>) -> [String: Int] {
        var index = FieldValueIndex()
        var counts: [Int] = []
        for row in rows {
            let id = reader.withField(row: row, column: column) { index.insert($0) }
            if id == counts.count { counts.append(0) }
            counts[id] += 1
        }
        var byName: [String: Int] = [:]
        for id in 0..<index.count { byName[index.string(id), default: 0] += counts[id] }
        return byName
    }

    private func columnIndex(_ table: CSVTable, _ name: String) throws(Problem) -> Int {
        guard let index = table.column(name) else {
            throw Self.missingColumn(table, "has no column '\(name)'", hint: Suggestion.hint(for: name, among: table.header))
        }
        return index
    }

    /// The error for a column the header lacks. A header of one field holding semicolons or
    /// tabs is a file written with another separator, which is said rather than the hint.
    private static func missingColumn(_ table: CSVTable, _ message: String, hint: String?) -> Problem {
        if let separator = table.apparentSeparator {
            return Problem(file: table.file, line: 1, message: message + "; the header is one field that looks "
                           + "separated by \(separator) (flowtrain reads comma-separated files: save it with commas)")
        }
        return Problem(file: table.file, line: 1, message: message, hint: hint)
    }

    /// The columns a numeric input reads: its list, or those of the header its glob matches.
    private static func numericColumns(_ input: Input, _ selection: ColumnSelection,
                                       _ train: CSVTable) throws(Problem) -> [String] {
        switch selection {
        case .names(let names): return names
        case .pattern(let glob):
            let columns = train.header.filter { fnmatch(glob, $0, 0) == 0 }
            guard !columns.isEmpty else {
                throw missingColumn(train, "has no column matching '\(glob)'", hint: "input '\(input.name)'")
            }
            return columns
        }
    }

    /// The numeric inputs' statistics from their parsed training rows (row-major, NaN: not a
    /// number; `ParsedNumbers`), over every process's rows. With a piecewise-linear encoding,
    /// also each column's bin edges, in the space the network sees (normalised as `encode`
    /// normalises, missing values left out).
    private func numericStatistics(_ inputs: [(input: Input, columns: [Int])], _ parsed: ParsedNumbers, _ train: CSVTable,
                                   _ rows: [Int], processes: any ProcessGroup) -> [String: NumericStatistics] {
        let numbers = inputs.map { parsed.numbers(of: $0.input.name) ?? UnsafeBufferPointer(start: nil, count: 0) }
        var columns: [NumberColumn] = [], blanks: [Int] = []
        for ((_, indices), numbers) in zip(inputs, numbers) {
            let width = indices.count
            for (c, column) in indices.enumerated() {
                columns.append(NumberColumn(numbers: numbers, first: c, stride: width, count: rows.count))
                // Anything neither a number nor blank is reported, with the split's other
                // problems, when it is encoded.
                let blank = rows.indices.contains { r in numbers[r * width + c].isNaN && train.isBlank(row: rows[r], column: column) }
                blanks.append(blank ? 1 : 0)
            }
        }
        let summaries = ColumnSummary.summaries(of: columns, across: processes)
        processes.allreduceSum(&blanks)
        var all: [String: NumericStatistics] = [:]
        var binned: [(name: String, bins: Int, values: [[Float]])] = []
        var next = 0
        for ((input, indices), numbers) in zip(inputs, numbers) {
            guard case let .numeric(_, normalize, missing) = input.kind else { continue }
            let names = indices.map { train.header[$0] }
            var stats = NumericStatistics(columns: names, indicators: [], offsets: [], scales: [], means: [])
            for name in names {
                let summary = summaries[next], hadMissing = blanks[next] > 0
                next += 1
                let deviation = summary.count == 0 ? 1 : (summary.squares / Double(summary.count)).squareRoot()
                let (low, high) = summary.count == 0 ? (0, 1) : (summary.low, summary.high)
                if hadMissing, missing == .mean { stats.indicators.append(name) }
                switch normalize {
                case .standard:
                    stats.offsets.append(Float(summary.mean))
                    stats.scales.append(Float(deviation > 0 ? deviation : 1))
                case .minmax:
                    stats.offsets.append(Float(low))
                    stats.scales.append(Float(high > low ? high - low : 1))
                case .none:
                    stats.offsets.append(0)
                    stats.scales.append(1)
                }
                stats.means.append(Float(summary.mean))
            }
            all[input.name] = stats
            if case .piecewiseLinear(let bins, _) = input.numericEncoding {
                let width = indices.count
                binned.append((input.name, bins, names.indices.map { c in
                    let (offset, scale) = (stats.offsets[c], stats.scales[c])
                    return rows.indices.map { r in
                        let value = numbers[r * width + c]
                        return value.isNaN ? Float.nan : (Float(value) - offset) / scale
                    }
                }))
            }
        }
        for (name, bins, values) in binned { all[name]?.binEdges = Self.binEdges(values, bins: bins, processes: processes) }
        return all
    }

    /// Each column's quantile bin edges (`QuantileBins`) from its values on every process.
    private static func binEdges(_ values: [[Float]], bins: Int, processes: any ProcessGroup) -> [[Float]] {
        let jobs = ParallelJobs<[Float]>(count: values.count)
        guard processes.size > 1 else {
            DispatchQueue.concurrentPerform(iterations: values.count) { c in
                jobs.run(c) { QuantileBins.edges(of: values[c], bins: bins) }
            }
            return (try? jobs.results()) ?? []
        }
        DispatchQueue.concurrentPerform(iterations: values.count) { c in jobs.run(c) { QuantileBins.sortedPresent(values[c]) } }
        let sorted = (try? jobs.results()) ?? []
        var counts = sorted.map(\.count)
        processes.allreduceSum(&counts)
        let queries = counts.enumerated().flatMap { c, count in
            QuantileBins.orderStatisticsNeeded(count: count, bins: bins).map { (column: c, rank: $0) }
        }
        let selected = OrderStatistics.select(queries, sorted: sorted, across: processes)
        var byColumn = [[Int: Float]](repeating: [:], count: values.count)
        for (query, value) in zip(queries, selected) { byColumn[query.column][query.rank] = value }
        return counts.enumerated().map { c, count in
            QuantileBins.edges(count: count, bins: bins) { byColumn[c][$0] ?? .nan }
        }
    }

    /// Count, mean and squared distances of regression targets' numbers (each task's in row
    /// order), over every process's rows.
    private static func summaries(_ values: [[Double]], _ processes: any ProcessGroup) -> [ColumnSummary] {
        let numbers = values.flatMap { $0 }
        return numbers.withUnsafeBufferPointer { numbers in
            var columns: [NumberColumn] = [], next = 0
            for column in values {
                columns.append(NumberColumn(numbers: numbers, first: next, stride: 1, count: column.count))
                next += column.count
            }
            return ColumnSummary.summaries(of: columns, across: processes)
        }
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
                labels: LabelColumns = .required) throws(Problem) -> EncodedSplit {
        let (split, problems) = try encodeCollecting(name, table, rows: rows, labels: labels)
        try problems.check()
        return split
    }

    /// Encodes `rows` of `table` as split `name`, the problems in its fields collected rather
    /// than thrown (those that end the pass at once are thrown). `firstRow` is the row in the
    /// file of the table's first row (a process's share of the file starts further on).
    func encodeCollecting(_ name: String, _ table: CSVTable, rows: [Int], firstRow: Int = 0,
                          labels: LabelColumns = .required) throws(Problem) -> (EncodedSplit, DataProblems) {
        // Blocks of rows on the cores there are, every column of a block before the next block:
        // a block's fields stay in cache while its columns are read (column by column over the
        // whole file, each pass would fetch every cache line of it again). Images are decoded
        // per image on every core instead.
        let inputList = flow.inputs.map(\.input)
        let blocks = stride(from: 0, to: rows.count, by: Self.blockRows).map { $0..<min($0 + Self.blockRows, rows.count) }
        let encodedBlocks = ParallelJobs<EncodedBlock>(count: blocks.count)
        let encoder = self
        DispatchQueue.concurrentPerform(iterations: blocks.count) { b in
            encodedBlocks.run(b) { () throws(Problem) in
                try encoder.encodeBlock(table, rows, blocks[b], labels: labels, inputs: inputList)
            }
        }
        var problems = DataProblems()
        var inputs: [String: EncodedInput] = [:]
        for input in inputList {
            if case .image = input.kind {
                inputs[input.name] = try encodeInput(input, table, rows[...], splitRows: rows, &problems)
            }
        }
        let results = try encodedBlocks.results()
        for block in results { problems.add(contentsOf: block.problems) }
        for (i, input) in inputList.enumerated() where inputs[input.name] == nil {
            switch results.first?.inputs[i] {
            case .oneHot(_, let size)?:
                inputs[input.name] = .oneHot(results.flatMap { block -> [Int32] in
                    guard case .oneHot(let ids, _)? = block.inputs[i] else { return [] }
                    return ids
                }, sampleSize: size)
            case .floats(_, let size)?:
                inputs[input.name] = .floats(results.flatMap { block -> [Float] in
                    guard case .floats(let values, _)? = block.inputs[i] else { return [] }
                    return values
                }, sampleSize: size)
            default:  // no rows: an empty encoding of the input's width
                inputs[input.name] = try encodeInput(input, table, rows[0..<0], splitRows: rows, &problems)
            }
        }
        let tasks = flow.tasks.indices
        let split = EncodedSplit(name: name, rows: rows.count, file: table.file, sourceRows: rows.map { firstRow + $0 },
                                 inputs: inputs, targets: tasks.map { t in results.flatMap { $0.targets[t] } },
                                 masks: tasks.map { t in results.flatMap { $0.masks[t] } },
                                 counts: tasks.map { t in results.flatMap { $0.counts[t] } },
                                 present: tasks.map { t in results.flatMap { $0.present[t] } })
        return (split, problems)
    }

    /// Rows per block of `encode`: a block's fields (about 100 bytes a row in the file, as many
    /// in the table's field ends) fit a core's cache.
    static let blockRows = 2048

    /// One block of `encode`: every input but images, every task's targets and masks.
    private struct EncodedBlock {
        var inputs: [EncodedInput?]
        var targets: [[Float]]
        var masks: [[Float]]
        var counts: [[Bool]]
        var present: [[Bool]]
        var problems: DataProblems
    }

    private func encodeBlock(_ table: CSVTable, _ splitRows: [Int], _ block: Range<Int>, labels: LabelColumns,
                             inputs: [Input]) throws(Problem) -> EncodedBlock {
        var problems = DataProblems()
        let rows = splitRows[block]
        var encoded: [EncodedInput?] = []
        for input in inputs {
            if case .image = input.kind {
                encoded.append(nil)
            } else {
                encoded.append(try encodeInput(input, table, rows, splitRows: splitRows, &problems))
            }
        }
        // Labels: the value preconditions read (binary 0/1, class index) and the targets.
        var values: [[Float?]] = [], targets: [[Float]] = []
        for task in flow.tasks {
            let (taskValues, taskTargets) = try encodeLabels(task, table, rows, labels, &problems)
            values.append(taskValues)
            targets.append(taskTargets)
        }
        let facts = statistics.facts
        let counts = PreconditionMask(tasks: flow.tasks, classes: facts.classes).counts(values: values)
        let masks = zip(flow.tasks, zip(counts, targets)).map { task, rows -> [Float] in
            let (counted, targets) = rows
            let width = TaskOutput(task, facts: facts).maskShape.reduce(1, *)
            // A token classification counts, on a row it counts on, the positions holding a
            // labelled token (target −1: padding, or past `max_length`).
            let byPosition = task.spec.type == .tokenClassification
            return [Float](unsafeUninitializedCapacity: counted.count * width) { mask, initialized in
                for (r, counts) in counted.enumerated() {
                    for j in 0..<width { mask[r * width + j] = counts && (!byPosition || targets[r * width + j] >= 0) ? 1 : 0 }
                }
                initialized = counted.count * width
            }
        }
        return EncodedBlock(inputs: encoded, targets: targets, masks: masks, counts: counts,
                            present: values.map { $0.map { $0 != nil } }, problems: problems)
    }

    /// Encodes one input; problems in its fields are added to `problems` and read as zero.
    private func encodeInput(_ input: Input, _ table: CSVTable, _ rows: ArraySlice<Int>, splitRows: [Int],
                             _ problems: inout DataProblems) throws(Problem) -> EncodedInput {
        switch input.kind {
        case .numeric(_, _, let missing):
            let stats = statistics.numeric[input.name]!
            let indices = try stats.columns.map { name throws(Problem) in try columnIndex(table, name) }
            let width = stats.columns.count + stats.indicators.count
            var values = [Float](repeating: 0, count: rows.count * width)
            // Per column, where its indicator goes (-1: none).
            let indicatorSlot = stats.columns.map { name in stats.indicators.firstIndex(of: name).map { stats.columns.count + $0 } ?? -1 }
            let parsed = trainNumbers.numbers(input: input.name, table: table, rows: splitRows)
            let first = rows.startIndex
            table.withReader { reader in
                for (r, row) in rows.enumerated() {
                    for (c, column) in indices.enumerated() {
                        var value: Float
                        let number = parsed.map { $0[(first + r) * indices.count + c] }.flatMap { $0.isNaN ? nil : $0 }
                            ?? reader.number(row: row, column: column)
                        if let number,
                           let problem = Self.float32Problem(number, normalized: (Float(number) - stats.offsets[c]) / stats.scales[c]) {
                            problems.add(Problem(table, row: row, column: column,
                                                 message: "'\(table.string(row: row, column: column))' \(problem)"))
                            value = 0
                        } else if let number {
                            value = Float(number)
                        } else if table.isBlank(row: row, column: column) {
                            switch missing {
                            case .mean: value = stats.means[c]
                            case .zero: value = 0
                            case .error:
                                problems.add(Problem(table, row: row, column: column,
                                                     message: "is empty, and input '\(input.name)' says missing: error"))
                                value = 0
                            }
                            if indicatorSlot[c] >= 0 { values[r * width + indicatorSlot[c]] = 1 }
                        } else {
                            problems.add(Problem(table, row: row, column: column,
                                                 message: "'\(table.string(row: row, column: column))' is not a finite number"))
                            value = 0
                        }
                        values[r * width + c] = (value - stats.offsets[c]) / stats.scales[c]
                    }
                }
            }
            return .floats(values, sampleSize: width)
        case .category(let encoding, _):
            let column = try columnIndex(table, input.column)
            let vocabulary = statistics.vocabularies[input.name]!
            var lookup = ValueLookup(vocabulary)
            let ids = table.withReader { reader in
                rows.map { row in
                    reader.withField(row: row, column: column) { field in
                        switch lookup.match(field) {
                        case .at(let id): return id
                        case .absent: return 0
                        case .notUTF8(let problem):
                            problems.add(Problem(table, row: row, column: column, message: problem))
                            return 0
                        }
                    }
                }
            }
            switch encoding {
            case .embedding: return .floats(ids.map(Float.init), sampleSize: 1)
            case .oneHot: return .oneHot(ids.map(Int32.init), sampleSize: vocabulary.count)
            }
        case .tokens(let settings):
            let column = try columnIndex(table, input.column)
            let index = Tokenizer.index(statistics.vocabularies[input.name]!)
            let tokenizer = Tokenizer(settings: settings), length = settings.maxLength
            var values = [Float](repeating: 0, count: rows.count * length)
            values.withUnsafeMutableBufferPointer { values in
                for (r, row) in rows.enumerated() {
                    if let problem = table.withBytes(row: row, column: column, UTF8Field.problem) {
                        problems.add(Problem(table, row: row, column: column, message: problem))
                        continue
                    }
                    tokenizer.encode(table.string(row: row, column: column), index: index,
                                     into: UnsafeMutableBufferPointer(rebasing: values[(r * length)..<((r + 1) * length)]))
                }
            }
            return .floats(values, sampleSize: length)
        case let .image(height, width, channels, resize):
            return try decodeImages(input, table, rows, height: height, width: width, channels: channels, resize: resize,
                                    &problems)
        }
    }

    /// Decodes every image (PNG or JPEG, by its signature) once, in parallel, and keeps its bytes.
    private func decodeImages(_ input: Input, _ table: CSVTable, _ rows: ArraySlice<Int>, height: Int, width: Int,
                              channels: Int, resize: Bool, _ problems: inout DataProblems) throws(Problem) -> EncodedInput {
        let column = try columnIndex(table, input.column)
        // Relative paths lead from the input's `directory:` (itself relative to the flow file), else the CSV's.
        let flowDirectory = URL(fileURLWithPath: flow.flow.file).deletingLastPathComponent()
        let directory = input.imageDirectory.map { URL(fileURLWithPath: $0, relativeTo: flowDirectory).standardizedFileURL }
            ?? URL(fileURLWithPath: table.file).deletingLastPathComponent()
        let size = height * width * channels
        // Each worker writes only its own rows' bytes.
        nonisolated(unsafe) let pixels = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: rows.count * size)
        defer { pixels.deallocate() }
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: rows.count) { r in
            let row = rows[rows.startIndex + r]
            let name = table.string(row: row, column: column)
            let path = name.hasPrefix("/") ? name : directory.appendingPathComponent(name).path
            do throws(Problem) {
                var image = try ImageFile.read(path: path, channels: channels)
                if image.width != width || image.height != height {
                    guard resize else {
                        failures.add(Problem(table, row: row, column: column,
                                             message: "image \(name) is \(image.width)×\(image.height), input '\(input.name)' "
                                                 + "expects \(width)×\(height) (or add resize: true)"))
                        return
                    }
                    image = image.resized(width: width, height: height)
                }
                _ = UnsafeMutableBufferPointer(rebasing: pixels[(r * size)..<((r + 1) * size)]).initialize(from: image.pixels)
            } catch {
                failures.add(Problem(table, row: row, column: column, message: error.description))
            }
        }
        for failure in failures.all { problems.add(failure) }
        return .bytes(Array(pixels), sampleSize: size)
    }

    /// A task's labels; a label that cannot be read is added to `problems` and counts as missing.
    private func encodeLabels(_ task: ResolvedTask, _ table: CSVTable, _ rows: ArraySlice<Int>, _ labels: LabelColumns,
                              _ problems: inout DataProblems) throws(Problem) -> ([Float?], [Float]) {
        let path = task.path.description
        let classes = statistics.classes[path] ?? []
        let width = TaskOutput(task, facts: statistics.facts).targetShape.reduce(1, *)
        // Token classification's positions without a labelled token hold −1.
        let unlabelled: Float = task.spec.type == .tokenClassification ? -1 : 0
        if task.spec.type == .maskedLanguageModel {
            // Present on every row: the text is the label, and the tokens are chosen per batch.
            return ([Float?](repeating: 1, count: rows.count), [Float](repeating: -1, count: rows.count * width))
        }
        if labels == .ignored || (labels == .optional && table.column(path) == nil) {
            return ([Float?](repeating: nil, count: rows.count), [Float](repeating: unlabelled, count: rows.count * width))
        }
        let column = try columnIndex(table, path)
        var values = [Float?](repeating: nil, count: rows.count)
        var targets = [Float](repeating: unlabelled, count: rows.count * width)
        var lookup = ValueLookup(classes)
        // Multilabel cells hold few distinct combinations: each is decoded once.
        var combinations = FieldValueIndex()
        var decodedCombinations: [(labels: [Int], problem: String?)] = []
        let type = task.spec.type
        let standard = statistics.regression[path]
        // A token classification's labels pair with the tokens of the text its sequence holds.
        var text: (column: Int, name: String, tokenizer: Tokenizer)?
        if type == .tokenClassification, let input = flow.inputs.first(where: { $0.input.name == task.tokensInput })?.input,
           case .tokens(let settings) = input.kind {
            text = (try columnIndex(table, input.column), input.column, Tokenizer(settings: settings))
        }
        // Each cell is read as bytes once: a String is made only for the cells that need one
        // (other spellings of true and false, error messages).
        table.withReader { reader in
            for (r, row) in rows.enumerated() {
                let problem = reader.withField(row: row, column: column) { field -> String? in
                    if markers.matches(field) { return nil }
                    switch type {
                    case .binary:
                        let value: Float? = field.count == 1 && field[0] == 0x31 ? 1 : field.count == 1 && field[0] == 0x30 ? 0
                            : Labels.binary(String(decoding: field, as: UTF8.self))
                        guard let value else {
                            return "'\(table.string(row: row, column: column))' is not a binary label; write 1/0, true/false or yes/no"
                        }
                        values[r] = value
                        targets[r] = value
                    case .classification:
                        switch lookup.match(field) {
                        case .at(let index):
                            values[r] = Float(index)
                            targets[r] = Float(index)
                        case .absent:
                            let text = table.string(row: row, column: column)
                            let hint = Suggestion.hint(for: text, among: classes).map { " (\($0))" } ?? ""
                            // Training never saw it, so the model has no output for it:
                            // a typo here would otherwise skew the metrics silently.
                            return task.spec.classes == nil
                                ? "class '\(text)' is not among the training split's classes" + hint
                                    + "; if it is a class too rare to be in training, list every class under "
                                    + "'classes:' for task '\(task.path)' in the flow"
                                : "class '\(text)' is not among the listed classes" + hint
                                    + "; if it is a class, add it to 'classes:' for task '\(task.path)' in the flow"
                        case .notUTF8(let problem):
                            return problem
                        }
                    case .multilabel:
                        // Names joined by `|`, `none` for the empty set (Labels.multilabel); few
                        // distinct cells, each decoded once.
                        let combination = combinations.insert(field)
                        if combination == decodedCombinations.count {
                            var labels: [Int] = [], problem = UTF8Field.problem(field)
                            for name in Labels.multilabel(String(decoding: field, as: UTF8.self)) where problem == nil {
                                if case .at(let index) = Array(name.utf8).withUnsafeBufferPointer({ lookup.match($0) }) {
                                    labels.append(index)
                                } else {
                                    let hint = Suggestion.hint(for: name, among: classes).map { " (\($0))" } ?? ""
                                    problem = "label '\(name)' is not among the labels" + hint
                                }
                            }
                            decodedCombinations.append((labels, problem))
                        }
                        let (labels, problem) = decodedCombinations[combination]
                        if let problem { return problem }
                        for index in labels { targets[r * width + index] = 1 }
                        values[r] = 1
                    case .boundedRegression, .regression:
                        guard let number = DecimalParser.parse(field) else {
                            return "'\(table.string(row: row, column: column))' is not a finite number"
                        }
                        let target = type == .boundedRegression ? number / task.spec.scale
                            : standard.map { (number - $0.mean) / $0.deviation } ?? number
                        if let problem = Self.float32Problem(number, normalized: Float(target)) {
                            return "'\(table.string(row: row, column: column))' \(problem)"
                        }
                        values[r] = Float(number)
                        targets[r] = Float(target)
                    case .tokenClassification:
                        guard let text else { return "token_classification reads no tokens input" }
                        if let problem = UTF8Field.problem(field) { return problem }
                        let names = Labels.tokens(String(decoding: field, as: UTF8.self))
                        let tokens = text.tokenizer.tokens(of: table.string(row: row, column: text.column)).count
                        guard names.count == tokens else {
                            return "holds \(names.count) label\(names.count == 1 ? "" : "s") for the \(tokens) "
                                + "token\(tokens == 1 ? "" : "s") of column '\(text.name)': write one class per token"
                        }
                        for (p, name) in names.prefix(width).enumerated() {
                            guard case .at(let index) = Array(name.utf8).withUnsafeBufferPointer({ lookup.match($0) }) else {
                                let hint = Suggestion.hint(for: name, among: classes).map { " (\($0))" } ?? ""
                                return "token \(p + 1): class '\(name)' is not among the "
                                    + (task.spec.classes == nil ? "training split's classes" : "listed classes") + hint
                            }
                            targets[r * width + p] = Float(index)
                        }
                        values[r] = 1
                    case .maskedLanguageModel:
                        break  // returned above
                    }
                    return nil
                }
                if let problem { problems.add(Problem(table, row: row, column: column, message: problem)) }
            }
        }
        return (values, targets)
    }

    /// Why a number cannot be trained on, if it cannot: training computes in float32, where the
    /// number, or what the training split's statistics make of it, would be infinite.
    private static func float32Problem(_ number: Double, normalized: Float) -> String? {
        if !Float(number).isFinite { return "is beyond float32's range (±3.4e38), in which training computes" }
        if !normalized.isFinite {
            return "is beyond float32's range (±3.4e38) once normalised with the training split's statistics"
        }
        return nil
    }
}

/// The numeric inputs of the training rows, parsed once (row-major, NaN: not a number): filled
/// block by block while learning the statistics, read again when the training split is encoded.
private final class ParsedNumbers: @unchecked Sendable {
    let file: String
    let rows: [Int]
    /// Per input name: its numbers and its width.
    private let inputs: [String: (numbers: UnsafeMutableBufferPointer<Double>, width: Int)]

    init(file: String, rows: [Int], inputs: [(name: String, width: Int)]) {
        self.file = file
        self.rows = rows
        self.inputs = Dictionary(inputs.map { ($0.name, (.allocate(capacity: rows.count * $0.width), $0.width)) },
                                 uniquingKeysWith: { first, _ in first })
    }

    /// An empty store (an encoder with a run's statistics parses every split).
    init() {
        file = ""
        rows = []
        inputs = [:]
    }

    deinit { for (numbers, _) in inputs.values { numbers.deallocate() } }

    /// Lets `body` write the input's numbers from split row `first` on (each block its own rows).
    func fill(_ input: String, from first: Int, _ body: (UnsafeMutablePointer<Double>) -> Void) {
        guard let (numbers, width) = inputs[input] else { return }
        body(numbers.baseAddress! + first * width)
    }

    func numbers(of input: String) -> UnsafeBufferPointer<Double>? {
        inputs[input].map { UnsafeBufferPointer($0.numbers) }
    }

    /// The input's numbers when they were parsed from these very rows of this table.
    func numbers(input: String, table: CSVTable, rows: [Int]) -> UnsafeBufferPointer<Double>? {
        guard file == table.file, self.rows == rows else { return nil }
        return numbers(of: input)
    }
}
