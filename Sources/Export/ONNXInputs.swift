import FileFormats
import FlowSpec
import Foundation
import Training

/// The graph's inputs, one per flow input, as a user has them at serving time, and the nodes
/// that turn each into what the trunk reads, as `SplitEncoder` and the engine's encodings do
/// in training:
/// - `numeric`: float32 [N, columns] in the flow's column order, NaN for a missing value;
///   imputed (`missing: mean` the training mean, `zero` 0; `error` also 0: a graph cannot refuse
///   a row), normalised with the training statistics, indicator columns appended, then encoded.
/// - `category`: a string [N]; ai.onnx.ml's LabelEncoder maps the vocabulary to its indices and
///   anything else to 0, the unknown slot; then the embedding table or one-hot.
/// - `image`: float32 [N, H, W, C] with pixel values 0–255 as a PNG decodes; scaled by 1/255,
///   then standardised per channel with `normalize:`.
/// - `tokens`: int64 ids [N, L] (padding 0, unknown 1, mask 2; the vocabulary, the split and
///   the lowercasing are in the metadata).
struct ONNXInputs {
    let graph: ONNXGraphBuilder
    let weights: ExportedWeights
    let statistics: DataStatistics

    /// The value each input feeds the trunk, by input name.
    func add(_ inputs: [ResolvedInput]) throws(Problem) -> [String: ExportedValue] {
        var values: [String: ExportedValue] = [:]
        for resolved in inputs {
            let input = resolved.input
            switch input.kind {
            case let .numeric(_, _, missing):
                values[input.name] = try numeric(input, missing: missing)
            case .category(let encoding, _):
                values[input.name] = try category(input, encoding: encoding)
            case let .image(height, width, channels, _):
                let pixels = graph.input(input.name, .float, shape: [height, width, channels])
                var scaled = graph.add("Mul", [pixels, graph.scalar(Float(1) / Float(255), "\(input.name).scale")],
                                       "inputs.\(input.name)")
                if let n = input.imageNormalization {
                    let mean = graph.constant("\(input.name).mean", n.mean.map { Float($0) }, shape: [channels])
                    let std = graph.constant("\(input.name).std", n.std.map { Float($0) }, shape: [channels])
                    scaled = graph.add("Div", [graph.add("Sub", [scaled, mean], "inputs.\(input.name).centred"), std],
                                       "inputs.\(input.name).normalized")
                }
                values[input.name] = ExportedValue(name: scaled, shape: [height, width, channels])
            case .tokens(let settings):
                values[input.name] = ExportedValue(name: graph.input(input.name, .int64, shape: [settings.maxLength]),
                                                   shape: [settings.maxLength], elementType: .int64)
            }
        }
        return values
    }

    private func numeric(_ input: Input, missing: MissingValues) throws(Problem) -> ExportedValue {
        guard let stats = statistics.numeric[input.name] else { throw noStatistics(input) }
        let columns = stats.columns.count
        let raw = graph.input(input.name, .float, shape: [columns])
        let name = "inputs.\(input.name)"
        let isMissing = graph.add("IsNaN", [raw], "\(name).is_missing")
        let fill = missing == .mean ? stats.means : [Float](repeating: 0, count: columns)
        let imputed = graph.add("Where", [isMissing, graph.constant("\(name).fill", fill, shape: [columns]), raw],
                                "\(name).imputed")
        let offsets = graph.constant("\(name).offsets", stats.offsets, shape: [columns])
        let normalized = graph.add("Div", [graph.add("Sub", [imputed, offsets], "\(name).centred"),
                                           graph.constant("\(name).scales", stats.scales, shape: [columns])],
                                   "\(name).normalized")
        // The indicators of the columns that had holes in training: 1 where the value is missing.
        var indicators: String?
        if !stats.indicators.isEmpty {
            let positions = stats.indicators.compactMap { stats.columns.firstIndex(of: $0) }.map(Int64.init)
            let chosen = graph.add("Gather", [isMissing, graph.integers("\(name).indicator_columns", positions)],
                                   "\(name).indicator_flags", [("axis", .integer(1))])
            indicators = graph.add("Cast", [chosen], "\(name).indicators", [("to", .integer(ONNXElementType.float.rawValue))])
        }
        let encoded: (name: String, width: Int)
        switch input.numericEncoding {
        case nil:
            encoded = (normalized, columns)
        case let .piecewiseLinear(bins, dimension)?:
            encoded = try piecewiseLinear(normalized, stats, bins: bins, dimension: dimension, name: "\(name).piecewise_linear")
        case let .periodic(frequencies, dimension, _)?:
            encoded = try periodic(normalized, columns: columns, frequencies: frequencies, dimension: dimension,
                                   name: "\(name).periodic")
        }
        guard let indicators else { return ExportedValue(name: encoded.name, shape: [encoded.width]) }
        return ExportedValue(name: graph.add("Concat", [encoded.name, indicators], name, [("axis", .integer(1))]),
                             shape: [encoded.width + stats.indicators.count])
    }

    /// Slot t of column j: min(max((x − low) / width, floor), ceiling), the engine's tables
    /// (PiecewiseLinearEncodingOp); then, with `dimension`, column j's own dense map.
    private func piecewiseLinear(_ x: String, _ stats: NumericStatistics, bins: Int, dimension: Int?,
                                 name: String) throws(Problem) -> (name: String, width: Int) {
        let columns = stats.columns.count, edges = stats.binEdges ?? []
        var low = [Float](repeating: 0, count: columns * bins), width = [Float](repeating: 1, count: columns * bins)
        var floor = [Float](repeating: 0, count: columns * bins), ceiling = [Float](repeating: 0, count: columns * bins)
        for j in 0..<columns {
            // As ModelCompiler reads them: at most bins + 1 edges, none for a column without any.
            let column = j < edges.count ? Array(edges[j].prefix(bins + 1)) : []
            let m = max(column.count - 1, 0)
            for t in 0..<min(m, bins) {
                let k = j * bins + t
                low[k] = column[t]
                width[k] = column[t + 1] - column[t]
                floor[k] = t == 0 ? -.infinity : 0
                ceiling[k] = t < m - 1 ? 1 : .infinity
            }
        }
        let shape = [columns, bins]
        let x3 = graph.add("Reshape", [x, graph.integers("\(name).column_shape", [-1, Int64(columns), 1])], "\(name).x")
        let fraction = graph.add("Div", [graph.add("Sub", [x3, graph.constant("\(name).low", low, shape: shape)], "\(name).offset"),
                                         graph.constant("\(name).width", width, shape: shape)], "\(name).fraction")
        let slots = graph.add("Min", [graph.add("Max", [fraction, graph.constant("\(name).floor", floor, shape: shape)],
                                                "\(name).floored"),
                                      graph.constant("\(name).ceiling", ceiling, shape: shape)], "\(name).slots")
        guard let dimension else {
            return (graph.add("Reshape", [slots, graph.integers("\(name).flat_shape", [-1, Int64(columns * bins)])], name),
                    columns * bins)
        }
        return (try columnwiseDense(slots, columns: columns, features: bins, units: dimension, relu: false, name: name),
                columns * dimension)
    }

    /// Per column: sin and cos of 2π c x for its learned frequencies c, then its own dense map
    /// and a ReLU (PeriodicEncodingOp).
    private func periodic(_ x: String, columns: Int, frequencies: Int, dimension: Int,
                          name: String) throws(Problem) -> (name: String, width: Int) {
        let learned = try weights("\(name).frequencies")
        // (2π · c) · x, in the engine's order of the products.
        let angular = learned.values.map { 2 * Float.pi * $0 }
        let x3 = graph.add("Reshape", [x, graph.integers("\(name).column_shape", [-1, Int64(columns), 1])], "\(name).x")
        let angles = graph.add("Mul", [graph.constant("\(name).angular", angular, shape: [columns, frequencies]), x3],
                               "\(name).angles")
        let features = graph.add("Concat", [graph.add("Sin", [angles], "\(name).sin"), graph.add("Cos", [angles], "\(name).cos")],
                                 "\(name).features", [("axis", .integer(2))])
        return (try columnwiseDense(features, columns: columns, features: 2 * frequencies, units: dimension, relu: true,
                                    name: name), columns * dimension)
    }

    /// [N, C, F] through column j's weights (C, D, F) and biases (C, D) to [N, C·D]: one batched
    /// MatMul over the columns.
    private func columnwiseDense(_ x: String, columns: Int, features: Int, units: Int, relu: Bool,
                                 name: String) throws(Problem) -> String {
        let weight = try weights("\(name).weight"), bias = try weights("\(name).bias")
        var transposed = [Float](repeating: 0, count: columns * features * units)  // (C, F, D)
        for j in 0..<columns {
            for d in 0..<units {
                for f in 0..<features { transposed[(j * features + f) * units + d] = weight.values[(j * units + d) * features + f] }
            }
        }
        let byColumn = graph.add("Transpose", [x], "\(name).by_column", [("perm", .integers([1, 0, 2]))])
        let product = graph.add("MatMul", [byColumn, graph.constant("\(name).weight_t", transposed, shape: [columns, features, units])],
                                "\(name).product")
        let byRow = graph.add("Transpose", [product], "\(name).by_row", [("perm", .integers([1, 0, 2]))])
        var out = graph.add("Add", [byRow, graph.constant("\(name).bias", bias.values, shape: [columns, units])], "\(name).mapped")
        if relu { out = graph.add("Relu", [out], "\(name).relu") }
        return graph.add("Reshape", [out, graph.integers("\(name).flat_shape", [-1, Int64(columns * units)])], name)
    }

    private func category(_ input: Input, encoding: CategoryEncoding) throws(Problem) -> ExportedValue {
        guard let vocabulary = statistics.vocabularies[input.name] else { throw noStatistics(input) }
        let name = "inputs.\(input.name)"
        let text = graph.input(input.name, .string, shape: [])
        let ids = graph.add("LabelEncoder", [text], "\(name).ids", domain: "ai.onnx.ml",
                            [("keys_strings", .strings(vocabulary)),
                             ("values_int64s", .integers((0..<vocabulary.count).map(Int64.init))),
                             ("default_int64", .integer(0))])
        switch encoding {
        case .embedding(let dimension):
            let table = try weights("\(name).embedding.weight")
            let rows = graph.add("Gather", [graph.constant("\(name).embedding.weight", table.values, shape: table.shape), ids],
                                 "\(name).embedding", [("axis", .integer(0))])
            return ExportedValue(name: rows, shape: [dimension])
        case .oneHot:
            let out = graph.add("OneHot", [ids, graph.integers("\(name).depth", [Int64(vocabulary.count)], shape: []),
                                           graph.constant("\(name).off_on", [0, 1], shape: [2])], "\(name).one_hot",
                                [("axis", .integer(-1))])
            return ExportedValue(name: out, shape: [vocabulary.count])
        }
    }

    private func noStatistics(_ input: Input) -> Problem {
        Problem("input '\(input.name)' has no statistics in the run's state.json", at: input.location)
    }
}
