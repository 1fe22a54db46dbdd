import AllocationCounter
import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Tokens inputs with their settings, and flows of sequence layers compiled and trained.
struct SequenceFlowTests {
    // MARK: tokens

    @Test func whitespaceAndCharactersLowercasedOrNot() {
        let words = Tokenizer(settings: TokenSettings(maxLength: 4))
        #expect(words.tokens(of: "  Not GOOD\tat\nall ") == ["Not", "GOOD", "at", "all"])
        let lower = Tokenizer(settings: TokenSettings(maxLength: 4, lowercase: true))
        #expect(lower.tokens(of: "Not GOOD") == ["not", "good"])
        let characters = Tokenizer(settings: TokenSettings(maxLength: 4, split: .characters, lowercase: true))
        #expect(characters.tokens(of: "Ab c") == ["a", "b", " ", "c"])
        #expect(characters.tokens(of: "").isEmpty)
    }

    /// The reserved ids first; `min_count`, then `max_vocabulary` keeping the most frequent,
    /// ties to the token that sorts first; the kept tokens sorted; a token spelt like a
    /// reserved id is not counted.
    @Test func vocabularyKeepsTheMostFrequentDeterministically() {
        let counts = ["c": 5, "a": 3, "b": 3, "d": 3, "e": 1, "<mask>": 9, "<pad>": 9]
        func vocabulary(minCount: Int = 1, max: Int? = nil) -> [String] {
            Tokenizer(settings: TokenSettings(maxLength: 4, minCount: minCount, maxVocabulary: max)).vocabulary(counts: counts)
        }
        let reserved = ["<pad>", "<unknown>", "<mask>"]
        #expect(vocabulary() == reserved + ["a", "b", "c", "d", "e"])
        #expect(vocabulary(minCount: 3) == reserved + ["a", "b", "c", "d"])
        #expect(vocabulary(max: 6) == reserved + ["a", "b", "c"])  // c (5), then a and b of the three 3s
        #expect(vocabulary(max: 4) == reserved + ["c"])
        #expect(vocabulary(max: 100) == vocabulary())
    }

    /// A tokens column encoded: ids from the vocabulary, cut to `max_length`, padded with 0;
    /// an unseen token (in valid) and a literal `<pad>` are unknown (1); an empty text is all
    /// padding.
    @Test func tokensEncodeWithTheirSettings() throws {
        let directory = try temporaryDirectory("tokens")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "text,y\nThe cat,1\nthe CAT sat on,0\n,1\n".write(to: directory.appendingPathComponent("train.csv"),
                                                           atomically: true, encoding: .utf8)
        try "text,y\ndog <pad> the,1\n".write(to: directory.appendingPathComponent("valid.csv"), atomically: true,
                                                encoding: .utf8)
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv, valid: valid.csv}
            inputs:
              text: {type: tokens, max_length: 3, lowercase: true}
            trunk:
              body: {from: text, layers: [embedding: 4, pool: mean]}
            flow:
              y: {type: binary}
            """.utf8), file: directory.appendingPathComponent("flow.yaml").path)
        let data = try TrainingData.load(flow)
        #expect(data.statistics.vocabularies["text"] == ["<pad>", "<unknown>", "<mask>", "cat", "on", "sat", "the"])
        guard case .floats(let train, 3)? = data.train.inputs["text"], case .floats(let valid, 3)? = data.valid?.inputs["text"]
        else { Issue.record("tokens are not encoded as floats of 3"); return }
        #expect(train == [6, 3, 0, 6, 3, 5, 0, 0, 0])
        #expect(valid == [1, 1, 6])
    }

    /// A `state.json` of a run from before the mask id (`["<pad>", "<unknown>", tokens…]`)
    /// would shift every token's id by one: it is refused, naming the key and the way out.
    @Test func aVocabularyWithoutTheMaskIDIsRefused() throws {
        let directory = try temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(at: directory) }
        let flow = try FlowLoader.load(bytes: Array("""
            name: t
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 3}
            flow:
              y: {type: binary, head: [embedding: 2, pool: mean]}
            """.utf8), file: "t.yaml")
        var statistics = DataStatistics()
        let path = directory.appendingPathComponent("state.json").path
        func write(_ vocabulary: [String]) throws {
            statistics.vocabularies["text"] = vocabulary
            let state = RunState(flowName: "t", statistics: statistics, epochsDone: 1, bestEpoch: 1, optimizerSteps: 1, seed: 1,
                                 flowtrainVersion: "0", flowDirectory: directory.path)
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: path))
        }
        try write(["<pad>", "<unknown>", "cat", "dog"])
        #expect(throws: Problem.self) { try RunState.read(path: path, for: flow) }
        do { _ = try RunState.read(path: path, for: flow) } catch {
            #expect(error.message.hasPrefix("statistics.vocabularies.text: does not start with the reserved ids "
                                            + "\"<pad>\", \"<unknown>\", \"<mask>\""))
        }
        try write(["<pad>", "<unknown>", "<mask>", "cat"])
        #expect(try RunState.read(path: path, for: flow).statistics.vocabularies["text"]?.count == 4)
    }

    // MARK: compiling

    static let transformerFlow = """
        name: seq
        data: {train: train.csv}
        inputs:
          text: {type: tokens, max_length: 16}
        trunk:
          body:
            from: text
            layers: [embedding: 16, positional, transformer: {heads: 4, dropout: 0.1}, conv1d: {filters: 8, kernel: 3},
                     attention: 2, residual: [layernorm, dense: 8, gelu]]
        flow:
          sentiment: {type: binary, head: [pool: mean, dense: 8, relu]}
          first: {type: classification, classes: [a, b, c], head: [pool: first]}
          peak: {type: regression, head: [pool: max]}
        train: {batch_size: 16}
        """

    /// Every parameter `check` counts is in the plan, under the names docs/flow-format.md gives.
    @Test func sequenceLayersCompileWithTheirNamesAndCounts() throws {
        let flow = try FlowLoader.load(bytes: Array(Self.transformerFlow.utf8), file: "seq.yaml")
        let facts = DataFacts.synthetic(for: flow)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 4, seed: 1)
        let expected = (flow.trunkParameters + flow.headParameters).evaluate { _ in facts.vocabularySize["text"] ?? 0 }
        #expect(model.plan.parameterCount == expected)
        let names = model.plan.parameters.map(\.name)
        for name in ["trunk.body.1.positional.weight", "trunk.body.2.transformer.norm1.weight",
                     "trunk.body.2.transformer.attention.qkv.weight", "trunk.body.2.transformer.attention.out.bias",
                     "trunk.body.2.transformer.norm2.bias", "trunk.body.2.transformer.linear1.weight",
                     "trunk.body.2.transformer.linear2.weight", "trunk.body.3.conv1d.weight", "trunk.body.3.conv1d.bias",
                     "trunk.body.4.attention.qkv.weight", "trunk.body.4.attention.out.weight"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(model.plan.parameters.first { $0.name == "trunk.body.2.transformer.linear1.weight" }?.shape == [64, 16])
        #expect(model.plan.parameters.first { $0.name == "trunk.body.3.conv1d.weight" }?.shape == [8, 3, 16])
        #expect(model.layers.map(\.name).contains("trunk.body.2.transformer.linear2"))
    }

    /// The steady training step of a flow with a transformer (its dropouts on), conv1d,
    /// attention and the three pools, on random padded texts: no heap allocation.
    @Test func steadyStepOfATransformerFlowAllocatesNothing() throws {
        let flow = try FlowLoader.load(bytes: Array(Self.transformerFlow.utf8), file: "seq.yaml")
        let facts = DataFacts.synthetic(for: flow, size: 40)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 16, seed: 1)
        SyntheticBatch.fill(model, batch: 16, facts: facts, seed: 2)
        let ids = Array(model.inputs["text"]!.values(batch: 16))
        #expect(ids.contains(0) && ids.contains { $0 >= 3 })  // padded texts of tokens
        let step = TrainingStep(model: model, optimizer: OptimizerFactory.optimizer(for: model.plan,
                                                                                    settings: flow.flow.training.optimizer),
                                clipNorm: 1)
        for _ in 0..<5 { step.run(batch: 16, learningRate: 0.001) }
        let before = allocation_count_this_thread()
        for _ in 0..<50 { step.run(batch: 16, learningRate: 0.001) }
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 50 steps")
        #expect(model.plan.totalLoss.isFinite)
    }

    // MARK: learning what a bag of words cannot

    /// Sentences of filler words with one "not" and one "good" each: negative (0) when "not"
    /// comes right before "good", positive otherwise. Both labels have the same bag of words,
    /// so only word order tells them apart.
    static func sentences(_ count: Int, seed: UInt64) -> String {
        let fillers = "the a food service was is really quite very today staff room place here and but".split(separator: " ")
        var random = Random(seed: seed)
        func pick(_ n: Int) -> Int { min(Int(random.uniform() * Float(n)), n - 1) }
        var text = "text,positive\n"
        for _ in 0..<count {
            var words = (0..<(4 + pick(7))).map { _ in String(fillers[pick(fillers.count)]) }
            let negative = random.uniform() < 0.5
            if negative {
                words.insert(contentsOf: ["not", "good"], at: pick(words.count + 1))
            } else {
                repeat {
                    var w = words
                    w.insert("good", at: pick(w.count + 1))
                    w.insert("not", at: pick(w.count + 1))
                    let not = w.firstIndex(of: "not")!
                    if not + 1 == w.count || w[not + 1] != "good" {
                        words = w
                        break
                    }
                } while true
            }
            text += words.joined(separator: " ") + (negative ? ",0\n" : ",1\n")
        }
        return text
    }

    /// The last epoch's validation accuracy of the flow with `layers` as its trunk, at a constant
    /// rate: with the default schedule (the last half of the 10 epochs decaying) the transformer
    /// stops at 0.87 (docs/training.md, "Learning-rate schedule").
    func validAccuracy(layers: String, in directory: URL) throws -> Double {
        let flowText = """
            name: order
            data: {train: train.csv, valid: valid.csv}
            inputs:
              text: {type: tokens, max_length: 12}
            trunk:
              body: {from: text, layers: \(layers)}
            flow:
              positive: {type: binary}
            train: {epochs: 10, batch_size: 32, seed: 1, optimizer: {name: adam, lr: 0.003}, schedule: constant}
            """
        let flow = try FlowLoader.load(bytes: Array(flowText.utf8), file: directory.appendingPathComponent("flow.yaml").path)
        let run = try RunDirectory.create(flowName: "order", explicit: directory.appendingPathComponent("run-\(UUID())").path)
        let trainer = Trainer(flow: flow, data: try TrainingData.load(flow), run: run, epochs: 10, seed: 1,
                              flowText: flowText) { _, _ in }
        #expect(try trainer.train() == .finished)
        let metrics = try String(contentsOfFile: run.path("metrics.csv"), encoding: .utf8)
        let line = try #require(metrics.split(separator: "\n").last { $0.hasPrefix("10,valid,positive,accuracy,") })
        return try #require(Double(line.split(separator: ",")[4]))
    }

    /// With positions and attention the order is learnt (about 0.98 in a second); a bag of
    /// embeddings, however deep its dense layers, stays at chance.
    @Test func contextLayersLearnWhatABagOfWordsCannot() throws {
        let directory = try temporaryDirectory("order")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.sentences(1500, seed: 1).write(to: directory.appendingPathComponent("train.csv"), atomically: true,
                                                encoding: .utf8)
        try Self.sentences(300, seed: 2).write(to: directory.appendingPathComponent("valid.csv"), atomically: true,
                                               encoding: .utf8)
        let context = try validAccuracy(
            layers: "[embedding: 16, positional, transformer: {heads: 2, hidden: 32, dropout: 0}, pool: mean]", in: directory)
        let bag = try validAccuracy(layers: "[embedding: 16, dense: 32, relu, pool: mean, dense: 32, relu]", in: directory)
        #expect(context >= 0.9, "with a transformer: \(context)")
        #expect(bag <= 0.65, "a bag of embeddings: \(bag)")
    }
}
