import Foundation
import Testing
@testable import FlowSpec

/// A flow written back with its defaults reads as the same flow.
struct FlowWriterTests {
    /// What two flows must share to be the same flow.
    func summary(_ flow: ResolvedFlow) -> [String] {
        let t = flow.flow.training, o = t.optimizer
        let weighting = switch t.lossWeighting {
        case let .gradnorm(alpha, rate, branch): "gradnorm \(alpha) \(rate) \(branch?.value ?? "-")"
        default: "\(t.lossWeighting)"
        }
        return flow.inputs.map {
            "\($0.input.name) \($0.input.column) \($0.shape) \($0.parameters) \(augmentation($0)) "
                + String(describing: $0.input.numericEncoding)
        }
            + flow.branches.flatMap { branch in
                branch.layers.map { "\(branch.branch.name) \(LayerDescription.summary($0.layer.kind)) \($0.output) \($0.parameters)" }
            }
            + flow.tasks.map { task in
                "\(task.path) \(task.spec.type) \(task.inputName) \(task.precondition?.text(\.description) ?? "-") "
                    + "\(task.parameters) \(task.spec.weight) \(task.spec.scale) \(String(describing: task.spec.loss)) "
                    + "\(task.spec.classes?.value ?? []) \(task.head.map { LayerDescription.summary($0.layer.kind) })"
            }
            + ["\(t.epochs) \(t.batchSize) \(t.seed) \(t.schedule) \(weighting) \(t.sampling) \(t.initialization) \(t.diagnostics)",
               "\(o.name) \(o.learningRate) \(o.weightDecay) \(o.momentum) \(o.nesterov) \(o.betas) \(String(describing: o.clipNorm))",
               "\(flow.flow.data.missingMarkers) \(String(describing: flow.flow.data.split))"]
    }

    /// An input's `augment:` without the places it was written.
    func augmentation(_ input: ResolvedInput) -> String {
        guard let a = input.augmentation else { return "-" }
        let s = a.settings
        let crop = s.crop.map { "crop \($0.lowerBound)–\($0.upperBound)" } ?? "no crop"
        let blur = s.blur.map { "blur \($0.sigma.lowerBound)–\($0.sigma.upperBound) p \($0.probability)" } ?? "no blur"
        return "\(s.flipHorizontal) \(s.flipVertical) \(s.rot90) \(crop) \(blur) "
            + "\(s.brightness) \(s.contrast) \(a.boxes.map { $0.map(\.description) }) "
            + "\(a.points.map { $0.map(\.description) }) \(a.invariant.map(\.description))"
    }

    @Test(arguments: ["flows/security.yaml", "flows/security-augmented.yaml", "flows/orders.yaml", "bench/mlp.yaml"])
    func writtenFlowsReadBackTheSame(_ path: String) throws {
        let original = try FlowLoader.load(path: repositoryRoot + "/" + path)
        let text = FlowWriter.yaml(original.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: repositoryRoot + "/" + path)
        #expect(summary(again) == summary(original))
        #expect(text.contains("batch_size: \(original.flow.training.batchSize)"))
    }

    /// A tokens input's settings and every sequence layer's are written and read back.
    @Test func sequenceFlowReadsBackTheSame() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 9, min_count: 2, tokenize: characters, lowercase: true, max_vocabulary: 99}
            trunk:
              seq: {from: text, layers: [embedding: 4]}
              body:
                from: text
                layers: [embedding: 8, positional: {init: glorot}, conv1d: {filters: 4, kernel: 2, dilation: 3, bias: false},
                         attention: {heads: 2, init: he}, transformer: {heads: 4, dropout: 0.25}, pool: first]
            flow:
              y: {type: binary}
              tags: {type: token_classification, input: seq, classes: [O, B-X, I-X]}
              words: {type: masked_language_model, input: seq, rate: 0.3, tokens: text}
            """)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
        #expect(summary(again) == summary(flow))
        #expect(String(describing: again.inputs[0].input.kind) == String(describing: flow.inputs[0].input.kind))
        #expect(text.contains("max_vocabulary: 99, tokenize: characters, lowercase: true"))
        // A run's flow.yaml keeps what its masked language model masks.
        let words = try #require(again.tasks.first { $0.path.description == "words" })
        #expect(words.spec.maskRate == 0.3 && words.spec.maskedInput?.value == "text" && words.tokensInput == "text")
    }

    @Test func tricky() throws {
        let flow = try load("""
            name: t
            data: {file: "a \\"b\\".csv", split: {valid: 0.25, test: 0.125, seed: 9}, missing: ["", "?"]}
            inputs:
              x: {type: numeric, columns: "f*", normalize: minmax, missing: zero, encoding: piecewise_linear, bins: 7}
              p: {type: numeric, columns: [g], encoding: periodic, sigma: 0.5}
              e: {type: numeric, columns: [h], encoding: piecewise_linear, dimension: 3}
              c: {type: category, column: "the kind", encoding: one_hot, min_count: 3}
            trunk:
              b: {from: [x, p, e, c], layers: [dense: {units: 8, bias: false, init: he}, leaky_relu: 0.2, dropout: 0.25,
                  residual: [dense: {units: 8, init: lecun}]]}
            flow:
              kind: {type: classification, classes: ["a b", "it's"]}
              g:
                when: "kind == 'a b' or not kind in [\\"it's\\"]"
                flow:
                  r: {type: regression, loss: huber, weight: 0.5}
            train:
              optimizer: {name: sgd, lr: 1e-5, momentum: 0.8, nesterov: true, clip_norm: 2.5}
              schedule: {name: step, step_size: 3, gamma: 0.5, warmup_epochs: 1}
              loss_weighting: uncertainty
              diagnostics: {worst_samples: 3}
              init: glorot
            """)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
        #expect(summary(again) == summary(flow), "\(text)")
    }

    /// Every schedule reads back as written; a mapping without a name is a cool-down with its
    /// own keys.
    @Test(arguments: ["constant", "cosine", "{name: cosine, min_factor: 0.1}", "cooldown", "{fraction: 0.3, warmup_epochs: 1}",
                      "{name: step, gamma: 0.2}"])
    func schedulesReadBack(_ schedule: String) throws {
        let flow = try load("name: t\ndata: {train: t.csv}\ninputs: {x: {type: numeric, columns: [a, b]}}\n"
                            + "flow: {p: {type: binary}}\ntrain: {schedule: \(schedule)}\n")
        let text = FlowWriter.yaml(flow.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
        #expect(again.flow.training.schedule == flow.flow.training.schedule, "\(text)")
        if schedule.hasPrefix("{fraction") {
            #expect(flow.flow.training.schedule == Schedule(kind: .cooldown(fraction: 0.3), warmupEpochs: 1))
        }
    }

    @Test(arguments: ["dwa", "{name: dwa, temperature: 0.5}", "gradnorm", "{name: gradnorm, alpha: 0.5, lr: 0.1, branch: b}"])
    func lossBalancersReadBack(_ weighting: String) throws {
        let flow = try load("""
            name: t
            data: {train: t.csv}
            inputs:
              x: {type: numeric, columns: [a, b]}
            trunk:
              b: {from: x, layers: [dense: 4]}
            flow:
              p: {type: binary}
              q: {type: regression}
            train:
              loss_weighting: \(weighting)
            """)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
        #expect(summary(again) == summary(flow), "\(text)")
        #expect(again.flow.training.lossWeighting.name == String(weighting.contains("dwa") ? "dwa" : "gradnorm"))
    }

    /// `diagnostics: true` turns both parts on; in a mapping a missing key is on; absent is off.
    @Test func diagnosticsSettings() throws {
        func diagnostics(_ value: String?) throws -> DiagnosticsSettings {
            try load(minimalHeader + "flow:\n  a: {type: binary}\n" + (value.map { "train:\n  diagnostics: \($0)\n" } ?? ""))
                .flow.training.diagnostics
        }
        #expect(try diagnostics(nil) == .off)
        #expect(try diagnostics("false") == .off)
        #expect(try diagnostics("true") == DiagnosticsSettings(layers: true, worstSamples: 10))
        #expect(try diagnostics("{worst_samples: 3}") == DiagnosticsSettings(layers: true, worstSamples: 3))
        #expect(try diagnostics("{layers: false}") == DiagnosticsSettings(layers: false, worstSamples: 10))
        #expect(try diagnostics("{layers: false, worst_samples: 0}") == .off)
        let written = FlowWriter.yaml(try load(minimalHeader + "flow:\n  a: {type: binary}\ntrain: {diagnostics: true}\n").flow) { $0 }
        #expect(written.contains("\n  diagnostics: {layers: true, worst_samples: 10}\n"))
    }

    @Test func everyAugmentationKey() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              image:
                type: image
                shape: [8, 8, 1]
                augment:
                  flip_horizontal: true
                  flip_vertical: true
                  rot90: true
                  crop: 0.75
                  blur: {sigma: [0.2, 1.5], p: 0.25}
                  brightness: 0.125
                  contrast: 0.5
                  boxes: [[x, y, w, h]]
                  points: [[g.px, g.py]]
                  invariant: [size]
            trunk:
              body: {from: image, layers: [flatten, dense: 4]}
            flow:
              x: {type: bounded_regression, scale: 8}
              y: {type: bounded_regression, scale: 8}
              w: {type: bounded_regression, scale: 8}
              h: {type: bounded_regression, scale: 8}
              g:
                flow:
                  px: {type: bounded_regression, scale: 8}
                  py: {type: bounded_regression, scale: 8}
              size: {type: bounded_regression, scale: 8}
            """)
        let text = FlowWriter.yaml(flow.flow) { $0 }
        let again = try FlowLoader.load(bytes: Array(text.utf8), file: "f.yaml")
        #expect(summary(again) == summary(flow), "\(text)")
        #expect(augmentation(again.inputs[0]) == "true true true crop 0.75–1.0 blur 0.2–1.5 p 0.25 0.125 0.5 "
                + "[[\"x\", \"y\", \"w\", \"h\"]] [[\"g.px\", \"g.py\"]] [\"size\"]")
    }
}
