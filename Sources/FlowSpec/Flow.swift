/// A flow file as written, decoded and type-checked but not yet resolved: names are still names.
/// `FlowResolver` turns it into a `ResolvedFlow`.
public struct Flow: Sendable {
    public var name: String
    /// The flow file's path, as given on the command line; data paths are relative to it.
    public var file: String
    public var data: DataSource
    public var inputs: [Input]
    public var trunk: [Branch]
    public var tasks: [TaskNode]
    public var training: TrainingSettings
    /// `search:`, read by `flowtrain search` alone.
    public var search: SearchSettings? = nil
}

/// A value with the place it was written, for errors found after decoding.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}

// MARK: - Data

/// Where the rows come from: separate split files, or one file split by a seeded shuffle.
public struct DataSource: Sendable {
    public var train: String?
    public var valid: String?
    public var test: String?
    /// One file that `split` divides into train, valid and test.
    public var file: String?
    public var split: Split?
    /// Cell values that mean "label missing".
    public var missingMarkers: [String]
    /// Where each path was written, by key (`train`, `valid`, `test`, `file`).
    public var pathLocations: [String: SourceLocation] = [:]

    /// Each file the flow names, with its key, in the order `train`, `valid`, `test`, `file`.
    public var paths: [(key: String, path: String)] {
        [("train", train), ("valid", valid), ("test", test), ("file", file)].compactMap { key, path in path.map { (key, $0) } }
    }

    public static let defaultMissingMarkers = ["", "NA", "NaN", "null"]
}

/// Fractions of rows held out for validation and test, drawn with a seeded shuffle.
public struct Split: Sendable, Equatable {
    public var valid: Double
    public var test: Double
    public var seed: Int
}

// MARK: - Inputs

/// A named input: where its values come from in the CSV and what shape they have.
public struct Input: Sendable {
    public var name: String
    public var location: SourceLocation
    /// The CSV column of an image, tokens or category input (empty for numeric inputs, which
    /// name their columns in `ColumnSelection`).
    public var column: String
    public var kind: Kind
    /// `augment:` of an image input: transforms of training batches.
    public var augmentation: Augmentation? = nil
    /// `encoding:` of a numeric input: each column's value as a vector (nil: the value itself).
    public var numericEncoding: NumericEncoding? = nil
    /// `normalize:` of an image input: per-channel standardisation after scaling to [0, 1].
    public var imageNormalization: ImageNormalization? = nil
    /// `directory:` of an image input: where its relative paths lead from, itself relative to
    /// the flow file (nil: the CSV file's directory).
    public var imageDirectory: String? = nil

    /// The kinds of input data.
    public enum Kind: Sendable {
        /// PNG or JPEG paths, decoded to height × width × channels bytes.
        case image(height: Int, width: Int, channels: Int, resize: Bool)
        case numeric(columns: ColumnSelection, normalize: Normalization, missing: MissingValues)
        /// Text split into tokens, padded or cut to `maxLength`.
        case tokens(TokenSettings)
        case category(encoding: CategoryEncoding, minCount: Int)
    }

    public var typeName: String {
        switch kind {
        case .image: "image"
        case .numeric: "numeric"
        case .tokens: "tokens"
        case .category: "category"
        }
    }
}

/// How a tokens input turns a text cell into ids: how it splits, which tokens the vocabulary
/// keeps, and how long a sequence is.
public struct TokenSettings: Sendable, Equatable {
    /// Positions per row: longer texts are cut, shorter ones padded.
    public var maxLength: Int
    /// How often a token must occur in the training split to enter the vocabulary.
    public var minCount: Int
    /// The most entries the vocabulary holds, the reserved ids included (nil: no limit).
    public var maxVocabulary: Int?
    public var split: TokenSplit
    /// Whether the text is lowercased before it is split.
    public var lowercase: Bool

    public init(maxLength: Int, minCount: Int = 1, maxVocabulary: Int? = nil, split: TokenSplit = .whitespace,
                lowercase: Bool = false) {
        self.maxLength = maxLength
        self.minCount = minCount
        self.maxVocabulary = maxVocabulary
        self.split = split
        self.lowercase = lowercase
    }

    /// The ids every vocabulary starts with, in this order: padding (0), a token the
    /// vocabulary lacks (1), and the mask a masked language model hides tokens behind (2).
    public static let reserved = ["<pad>", "<unknown>", "<mask>"]
    public static let paddingID = 0, unknownID = 1, maskID = 2
}

/// `tokenize:` of a tokens input.
public enum TokenSplit: String, Sendable, CaseIterable {
    /// Runs of non-whitespace characters.
    case whitespace
    /// Every character (a grapheme, spaces included).
    case characters
}

/// The columns of a numeric input: listed by name, or every header column matching a glob.
public enum ColumnSelection: Sendable, Equatable {
    case names([String])
    case pattern(String)
}

/// `normalize:` of an image input: per channel, (x − mean) / std on the values scaled to
/// [0, 1], as torchvision's `Normalize` — what a backbone pretrained on such images expects.
public struct ImageNormalization: Sendable, Equatable {
    public var mean: [Double]
    public var std: [Double]

    public init(mean: [Double], std: [Double]) {
        self.mean = mean
        self.std = std
    }

    /// `normalize: imagenet`: the ImageNet statistics torchvision's pretrained models use.
    public static let imagenet = ImageNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
}

/// How numeric columns are scaled, with statistics from the training split only.
public enum Normalization: String, Sendable, CaseIterable {
    case standard, minmax, none
}

/// What an empty numeric cell becomes.
public enum MissingValues: String, Sendable, CaseIterable {
    /// The training mean, plus a 0/1 indicator column for each column that had missing values.
    case mean
    case zero
    /// Refuse the row, naming its location.
    case error
}

/// How a numeric input's columns become vectors (Gorishniy et al., 2022); missing values are
/// imputed first, and the indicator columns pass through unencoded.
public enum NumericEncoding: Sendable, Equatable {
    /// `bins` slots from quantile bin edges of the training split, then a per-column dense map
    /// to `dimension` values when given.
    case piecewiseLinear(bins: Int, dimension: Int?)
    /// sin and cos of `frequencies` learned frequencies (drawn from N(0, sigma²)), then a
    /// per-column dense map to `dimension` values and a ReLU.
    case periodic(frequencies: Int, dimension: Int, sigma: Double)

    /// The name written in a flow.
    public var name: String {
        switch self {
        case .piecewiseLinear: "piecewise_linear"
        case .periodic: "periodic"
        }
    }

    /// Values per column after encoding.
    public var width: Int {
        switch self {
        case let .piecewiseLinear(bins, dimension): dimension ?? bins
        case .periodic(_, let dimension, _): dimension
        }
    }

    /// Learned values per column.
    public var parametersPerColumn: Int {
        switch self {
        case let .piecewiseLinear(bins, dimension): dimension.map { bins * $0 + $0 } ?? 0
        case let .periodic(frequencies, dimension, _): frequencies + 2 * frequencies * dimension + dimension
        }
    }

    public static let defaultBins = 48
    public static let defaultFrequencies = 48
    public static let defaultPeriodicDimension = 24
    public static let defaultSigma = 0.01
}

/// How a category input is fed to the network.
public enum CategoryEncoding: Sendable, Equatable {
    case embedding(Int)
    case oneHot
}

// MARK: - Trunk

/// A named branch of the shared trunk: its sources (concatenated) and its layers.
public struct Branch: Sendable {
    public var name: String
    public var location: SourceLocation
    public var sources: [Located<String>]
    public var layers: [Layer]
    /// Starting weights: a safetensors file (relative to the flow file) and the prefix of the
    /// tensor names to take from it (default `trunk.<name>.`, as flowtrain names the branch).
    public var initialWeights: InitialWeights? = nil
    /// `trainable: false` freezes the branch: no gradients for its weights, no optimiser state.
    public var trainable = true

    public init(name: String, location: SourceLocation, sources: [Located<String>], layers: [Layer]) {
        self.name = name
        self.location = location
        self.sources = sources
        self.layers = layers
    }
}

/// `init:`, `prefix:`, `layout:` and `names:` of a trunk branch: which file the branch's first
/// weights come from, and which of the file's tensors each layer takes.
public struct InitialWeights: Sendable, Equatable {
    public var file: Located<String>
    /// With flowtrain's layout and no `names`: tensor `trunk.<branch>.<rest>` comes from the
    /// file's `<prefix><rest>`.
    public var prefix: String
    public var layout: WeightLayout = .flowtrain
    /// Nil: by `prefix` (flowtrain's layout) or in order (PyTorch's).
    public var names: TensorNames? = nil

    public init(file: Located<String>, prefix: String, layout: WeightLayout = .flowtrain, names: TensorNames? = nil) {
        self.file = file
        self.prefix = prefix
        self.layout = layout
        self.names = names
    }

    /// The names rule in force: `names:`, else in order for PyTorch's layout; nil: by prefix.
    public var effectiveNames: TensorNames? {
        names ?? (layout == .torch ? .inOrder(file.location) : nil)
    }
}

/// How a weights file lays out its tensors.
public enum WeightLayout: String, Sendable, CaseIterable {
    /// flowtrain's own (`model.safetensors` of a run): conv weights (F, K, K, C).
    case flowtrain
    /// PyTorch's `state_dict()`: conv weights (O, I, kH, kW), a Linear after a flatten reading
    /// channels first, BatchNorm's `num_batches_tracked` beside the statistics.
    case torch
}

/// Which module of a weights file each layer of a branch takes.
public enum TensorNames: Sendable, Equatable {
    /// Layer (its name inside the branch, as `model.safetensors` has it after
    /// `trunk.<branch>.`: `0.conv`, `4.residual.shortcut.0.conv`) → the file's module, the
    /// tensor names before their last part (`layer1.0.conv1`).
    case pairs([TensorNamePair])
    /// The branch's layers in forward order, each taking the first module of the file, in the
    /// natural order of the names (numbers as numbers), not yet taken whose tensors have its
    /// shapes.
    case inOrder(SourceLocation)
}

/// One entry of `names:`.
public struct TensorNamePair: Sendable, Equatable {
    public var layer: Located<String>
    public var module: Located<String>

    public init(layer: Located<String>, module: Located<String>) {
        self.layer = layer
        self.module = module
    }
}

/// One layer as written in `layers:` or `head:`.
public struct Layer: Sendable {
    public var kind: Kind
    public var location: SourceLocation

    /// The layer types of the flow language, with their arguments.
    public indirect enum Kind: Sendable {
        /// `initialization` nil: the flow's `train.init`.
        case dense(units: Int, bias: Bool, initialization: WeightInit?)
        /// `bias` false: no bias parameter (a conv followed by batchnorm, as in ResNet).
        case conv(filters: Int, kernel: Int, stride: Int, padding: Padding, bias: Bool, initialization: WeightInit?)
        /// `padding`: pixels of −∞ on each side, at most size / 2 (PyTorch's MaxPool2d).
        case maxpool(size: Int, stride: Int, padding: Int)
        case avgpool(size: Int, stride: Int)
        case globalAvgpool
        case relu
        case leakyRelu(slope: Double)
        case gelu
        case tanh
        case sigmoid
        case dropout(rate: Double)
        case batchnorm(momentum: Double, epsilon: Double)
        case layernorm(epsilon: Double)
        case flatten
        case embedding(dimension: Int, initialization: WeightInit?)
        /// block(x) + x, or block(x) + shortcut(x) when a shortcut is given (a projection for a
        /// block that changes the shape).
        case residual([Layer], shortcut: [Layer]?)
        /// Learned position vectors added to a sequence.
        case positional(initialization: WeightInit?)
        /// A same-length convolution over a sequence's positions; padding reads as zeros.
        case conv1d(filters: Int, kernel: Int, dilation: Int, bias: Bool, initialization: WeightInit?)
        /// Multi-head self-attention over the positions that hold tokens.
        case attention(heads: Int, initialization: WeightInit?)
        /// A pre-norm transformer encoder block; `hidden` nil: 4 × the sequence's features.
        case transformer(heads: Int, hidden: Int?, dropout: Double, initialization: WeightInit?)
        /// A sequence to a vector over the positions that hold tokens.
        case pool(SequencePooling)
    }
}

/// `pool:` of a sequence: what one vector of the positions that hold tokens is.
public enum SequencePooling: String, Sendable, CaseIterable {
    case mean, max, first
}

/// How a layer's first weights are drawn (`init:` on dense, conv, conv1d, embedding, positional, attention
/// and transformer layers;
/// `train.init` for the layers that do not say). docs/flow-format.md gives each formula.
public enum WeightInit: String, Sendable, CaseIterable {
    case he, glorot, lecun, torch
}

/// Convolution padding: `same` keeps ceil(size / stride), a number pads that many zeros each side.
public enum Padding: Sendable, Equatable {
    case same
    case zeros(Int)
}

// MARK: - Tasks

/// A node of the task tree: a task, or a nested flow holding tasks.
public struct TaskNode: Sendable {
    public var name: String
    public var location: SourceLocation
    public var when: Condition<Located<String>>?
    public var content: Content

    /// A task, or a nested flow of further nodes.
    public enum Content: Sendable {
        case task(TaskSpec)
        case flow([TaskNode])
    }
}

/// The seven task types.
public enum TaskType: String, Sendable, CaseIterable, Codable {
    case binary
    case classification
    case multilabel
    case boundedRegression = "bounded_regression"
    case regression
    case tokenClassification = "token_classification"
    /// Predicts the ids of a tokens input's masked tokens: its labels are the text itself.
    case maskedLanguageModel = "masked_language_model"

    /// Only tasks with a discrete decoded value can gate other tasks.
    public var canBePrecondition: Bool { self == .binary || self == .classification }

    /// Tasks whose output is a set of named classes or labels.
    public var hasClasses: Bool { self == .classification || self == .multilabel || self == .tokenClassification }
}

/// A task's settings as written.
public struct TaskSpec: Sendable {
    public var type: TaskType
    /// The trunk branch or input it reads; nil means the default (the last branch).
    public var input: Located<String>?
    public var head: [Layer]
    public var weight: Double
    /// Classes (classification, token classification) or labels (multilabel), when listed.
    public var classes: Located<[String]>?
    /// Bounded regression: labels are divided by `scale` so that the target lies in [0, 1].
    public var scale: Double
    public var loss: RegressionLoss?
    /// Masked language model: the share of a text's tokens masked in each training step.
    public var maskRate: Double = MaskedLanguageModel.defaultRate
    /// Masked language model: the tokens input it masks, when written (`tokens:`); it must be
    /// the one the task's sequence descends from, which is also the default.
    public var maskedInput: Located<String>? = nil
}

/// Settings shared by masked language models.
public enum MaskedLanguageModel {
    /// BERT's share of masked tokens.
    public static let defaultRate = 0.15
    /// Of the masked tokens: the share replaced by `<mask>`, then by a random token; the rest
    /// stay as they are (BERT's 80/10/10).
    public static let maskShare: Float = 0.8, randomShare: Float = 0.1
}

/// The loss of a regression task.
public enum RegressionLoss: String, Sendable, CaseIterable {
    case mse, l1, huber
}

// MARK: - Training

/// The `train:` section.
public struct TrainingSettings: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerSettings
    public var schedule: Schedule
    public var seed: Int
    public var lossWeighting: LossWeighting
    /// Where `loss_weighting` was written, for errors found when resolving.
    public var lossWeightingLocation: SourceLocation? = nil
    public var sampling: Sampling
    /// How the first weights of every layer without an `init:` of its own are drawn.
    public var initialization: WeightInit
    /// What training measures besides losses and metrics; off unless asked for.
    public var diagnostics = DiagnosticsSettings.off
}

/// `train.diagnostics`: per-layer statistics and the hardest training samples, measured each
/// epoch (docs/training.md, "Diagnostics"). Off by default so that runs cost what they did.
public struct DiagnosticsSettings: Sendable, Equatable {
    /// Activation, gradient, weight and update statistics of every layer, on each epoch's last
    /// training step.
    public var layers: Bool
    /// How many of the highest-loss training samples to keep per task each epoch; 0 for none.
    public var worstSamples: Int

    public init(layers: Bool, worstSamples: Int) {
        self.layers = layers
        self.worstSamples = worstSamples
    }

    public static let off = DiagnosticsSettings(layers: false, worstSamples: 0)
    /// What `diagnostics: true` means, and the defaults of the mapping's keys.
    public static let on = DiagnosticsSettings(layers: true, worstSamples: 10)
    /// The largest `worst_samples`: more rows than a heat map can show.
    public static let maxWorstSamples = 1000

    public var isOff: Bool { self == .off }
}

/// The optimiser and its hyper-parameters.
public struct OptimizerSettings: Sendable, Equatable {
    public var name: OptimizerName
    public var learningRate: Double
    public var weightDecay: Double
    /// SGD momentum (0 disables it).
    public var momentum: Double
    public var nesterov: Bool
    /// Adam's β₁ and β₂.
    public var betas: (Double, Double)
    /// Global gradient-norm clipping; nil disables it.
    public var clipNorm: Double?

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.learningRate == b.learningRate && a.weightDecay == b.weightDecay
            && a.momentum == b.momentum && a.nesterov == b.nesterov && a.betas == b.betas
            && a.clipNorm == b.clipNorm
    }
}

/// The optimisers the engine implements.
public enum OptimizerName: String, Sendable, CaseIterable {
    case sgd, adam, adamw
}

/// The learning-rate schedule over epochs, after an optional linear warm-up.
public struct Schedule: Sendable, Equatable {
    public var kind: Kind
    public var warmupEpochs: Int

    /// The schedule shapes.
    public enum Kind: Sendable, Equatable {
        case constant
        /// Multiply by `gamma` every `stepSize` epochs; nil means a third of the epochs trained
        /// (so that `train --epochs N` keeps the shape of the schedule).
        case step(stepSize: Int?, gamma: Double)
        /// Cosine decay to `minimumFactor` × lr at the last epoch.
        case cosine(minimumFactor: Double)
        /// The rate, then linear down to 0 over the last `fraction` of the epochs after warm-up.
        case cooldown(fraction: Double)
    }

    /// Without `schedule:`, or without its `name`: the rate held for half of the epochs, then
    /// down to 0 (docs/training.md, "Learning-rate schedule": on the MLP workload it learned
    /// better than a constant rate, cosine and shorter cool-downs).
    public static let `default` = Schedule(kind: .cooldown(fraction: Schedule.defaultCooldown), warmupEpochs: 0)
    /// The share of the epochs that `cooldown` spends decaying unless `fraction` says otherwise.
    public static let defaultCooldown = 0.5
}

/// How task losses are combined into the total (`docs/training.md`, "Loss balancers").
public enum LossWeighting: Sendable, Equatable {
    /// Σ weight × loss, with each task's `weight`.
    case fixed
    /// Kendall et al.: one learned log-variance per task.
    case uncertainty
    /// Dynamic Weight Average (Liu et al.) with its softmax temperature, on losses divided by
    /// their previous epoch's mean.
    case dwa(temperature: Double)
    /// GradNorm (Chen et al.): its asymmetry α, the rate of its weight steps, and the branch
    /// whose output it measures gradients on (nil: the branch most tasks read).
    case gradnorm(alpha: Double, rate: Double, branch: Located<String>?)

    /// The names `loss_weighting` accepts.
    public static let names = ["fixed", "uncertainty", "dwa", "gradnorm"]

    public var name: String {
        switch self {
        case .fixed: "fixed"
        case .uncertainty: "uncertainty"
        case .dwa: "dwa"
        case .gradnorm: "gradnorm"
        }
    }

    /// The balancer `name` with its default settings (the papers' own).
    public static func named(_ name: String) -> LossWeighting? {
        switch name {
        case "fixed": .fixed
        case "uncertainty": .uncertainty
        case "dwa": .dwa(temperature: 2)
        case "gradnorm": .gradnorm(alpha: 1.5, rate: 0.025, branch: nil)
        default: nil
        }
    }
}

/// How training batches are drawn.
public enum Sampling: String, Sendable, CaseIterable {
    case shuffle
    /// A shuffle in which each batch takes one row from each of `batch_size` equal stretches
    /// of the split: a batch spans the whole file, and processes that each hold a stretch of
    /// it (`mpirun`) get equal parts of every batch.
    case stratified
    /// Rows with rare patterns of present labels are drawn as often as common ones.
    case balanced
}
