import AllocationCounter
import Engine
import FileFormats
import FlowSpec
import Foundation
import Testing
@testable import Training

/// Token classification and masked language models: labels per token, their masks, the
/// located errors, the seeded masking, an empty text, the steady step, and what a small
/// tickets flow learns.
struct TokenTaskTests {
    static func load(_ csv: String, flow: String = tagFlow, in directory: URL) throws -> (ResolvedFlow, TrainingData) {
        try csv.write(to: directory.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let flow = try FlowLoader.load(bytes: Array(flow.utf8), file: directory.appendingPathComponent("flow.yaml").path)
        return (flow, try TrainingData.load(flow))
    }

    static let tagFlow = """
        name: t
        data: {train: train.csv}
        inputs:
          text: {type: tokens, max_length: 4}
        trunk:
          seq: {from: text, layers: [embedding: 4]}
        flow:
          tags: {type: token_classification}
        """

    /// A class per position; −1 and a zero mask at padding and at the tokens past
    /// `max_length`; a missing label (empty, `NA`) masks the whole row; the classes learnt
    /// from the tags of the training split.
    @Test func labelsEncodePerToken() throws {
        let directory = try temporaryDirectory("tags")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, data) = try Self.load("text,tags\na b c d e,O B-X I-X O O\na b,O B-X\n,\nc,NA\n", in: directory)
        #expect(data.statistics.classes["tags"] == ["B-X", "I-X", "O"])
        #expect(data.train.targets[0] == [2, 0, 1, 2, 2, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1])
        #expect(data.train.masks[0] == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(data.train.counts[0] == [true, true, false, false])
    }

    /// A label cell whose count differs from the text's tokens (before `max_length` cuts them)
    /// is refused at its file, line and field, with both counts; so is an unknown class.
    @Test func aLabelCountThatDiffersIsLocated() throws {
        let directory = try temporaryDirectory("tags")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("train.csv").path
        #expect {
            _ = try Self.load("text,tags\na b,O O\na b c d e,O O O O\n", in: directory)
        } throws: { error in
            "\(error)".contains("\(file):3:2: column 'tags': holds 4 labels for the 5 tokens of column 'text'")
        }
        let flow = Self.tagFlow.replacingOccurrences(of: "token_classification}", with: "token_classification, classes: [O, B-X]}")
        #expect {
            _ = try Self.load("text,tags\na b,O B-Y\n", flow: flow, in: directory)
        } throws: { error in
            "\(error)".contains("\(file):2:2: column 'tags': token 2: class 'B-Y' is not among the listed classes (did you mean 'B-X'?)")
        }
    }

    /// An empty text is a sequence of padding only: no position counts for its tags, and the
    /// pooled sentence vector, the tags' logits and the sentence task's output are defined.
    @Test func anEmptyTextHasADefinedOutput() throws {
        let text = """
            name: t
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 6}
            trunk:
              seq: {from: text, layers: [embedding: 8, positional, transformer: {heads: 2, hidden: 8, dropout: 0}]}
              sentence: {from: seq, layers: [pool: mean]}
            flow:
              tags: {type: token_classification, input: seq, classes: [O, B-X]}
              y: {type: binary, input: sentence}
            """
        let flow = try FlowLoader.load(bytes: Array(text.utf8), file: "t.yaml")
        let facts = DataFacts.synthetic(for: flow, size: 10)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 2, seed: 1)
        let ids = model.inputs["text"]!
        for t in 0..<6 { ids.data[t] = 0; ids.data[6 + t] = t < 3 ? Float(3 + t) : 0 }
        model.plan.forward(batch: 2, mode: .evaluation)
        let tags = model.tasks.first { $0.task.path.description == "tags" }!
        let y = model.tasks.first { $0.task.path.description == "y" }!
        #expect(tags.logits.values(batch: 2).allSatisfy { $0.isFinite })
        #expect(y.logits.values(batch: 2).allSatisfy { $0.isFinite })
        #expect(Array(tags.padding!.values(batch: 2)) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0])
    }

    /// BERT's masking: about `rate` of the counted rows' tokens, of them about 80% `<mask>`,
    /// 10% a random non-reserved token, 10% unchanged; never padding, never a row that does
    /// not count; a function of (seed, epoch, row) alone, fixed in evaluation.
    @Test func maskingFollowsBertAndIsSeeded() {
        let rows = 400, length = 20, vocabulary = 50
        let ids = UnsafeMutablePointer<Float>.allocate(capacity: rows * length)
        let targets = UnsafeMutablePointer<Float>.allocate(capacity: rows * length)
        let mask = UnsafeMutablePointer<Float>.allocate(capacity: rows * length)
        defer { ids.deallocate(); targets.deallocate(); mask.deallocate() }
        let masking = TokenMasking(ids: ids, targets: targets, mask: mask, length: length, rate: 0.15, vocabulary: vocabulary)
        func original(_ i: Int) -> Float { i % length < 15 ? Float(3 + i % 40) : 0 }
        func run(epoch: Int?, seed: Int = 3) -> [Float] {
            for i in 0..<(rows * length) {
                ids[i] = original(i)
                mask[i] = i / length % 10 == 9 ? 0 : 1  // every tenth row does not count
            }
            for r in 0..<rows { masking.apply(sample: r, row: r, seed: seed, epoch: epoch) }
            return Array(UnsafeBufferPointer(start: ids, count: rows * length))
        }
        let masked = run(epoch: 0)
        var chosen = 0, toMask = 0, toRandom = 0, kept = 0, tokens = 0
        for i in 0..<(rows * length) {
            let counted = i / length % 10 != 9, token = original(i) != 0
            if counted && token { tokens += 1 }
            guard mask[i] != 0 else {
                #expect(masked[i] == original(i) && targets[i] == -1)
                continue
            }
            #expect(counted && token && targets[i] == original(i))
            chosen += 1
            if masked[i] == 2 { toMask += 1 } else if masked[i] == original(i) { kept += 1 } else {
                toRandom += 1
                #expect(masked[i] >= 3 && masked[i] < Float(vocabulary))
            }
        }
        let share = Double(chosen) / Double(tokens)
        #expect(abs(share - 0.15) < 0.02, "masked share \(share)")
        #expect(abs(Double(toMask) / Double(chosen) - 0.8) < 0.05)
        #expect(abs(Double(toRandom) / Double(chosen) - 0.1) < 0.04)
        #expect(abs(Double(kept) / Double(chosen) - 0.1) < 0.04)
        #expect(run(epoch: 0) == masked)
        #expect(run(epoch: 1) != masked)
        #expect(run(epoch: 0, seed: 4) != masked)
        #expect(run(epoch: nil) == run(epoch: nil))
    }

    static let tokenTasksFlow = """
        name: t
        data: {train: train.csv}
        inputs:
          text: {type: tokens, max_length: 16}
        trunk:
          seq: {from: text, layers: [embedding: 16, positional, transformer: {heads: 2, hidden: 32, dropout: 0.1}]}
        flow:
          tags: {type: token_classification, input: seq, classes: [O, B-X, I-X]}
          words: {type: masked_language_model, input: seq}
          y: {type: binary, input: seq, head: [pool: mean]}
        train: {batch_size: 16}
        """

    /// A process's half of a batch whose other half another process holds, as the same rows
    /// again: each loss divides by twice its kept positions, as `ProcessGroupReduction` makes
    /// it (nothing is exchanged).
    final class TwoEqualParts: GradientReduction {
        let losses: [any MaskedLoss]
        init(_ model: CompiledModel) { losses = model.tasks.map(\.loss) }
        func countRows(batch: Int) { for loss in losses { loss.rowsAcrossProcesses = 2 * loss.countKept(batch: batch) } }
        func reduce(_ plan: Plan) {}
    }

    /// Loading a batch masks its tokens and steps on both token tasks without allocating; so
    /// does a step on a part of a batch (under mpirun), whose token losses divide by the
    /// positions of the whole batch.
    @Test(arguments: [false, true])
    func steadyStepOfTokenTasksAllocatesNothing(asAPart: Bool) throws {
        let flow = try FlowLoader.load(bytes: Array(Self.tokenTasksFlow.utf8), file: "t.yaml")
        let facts = DataFacts.synthetic(for: flow, size: 40)
        let model = ModelCompiler.compile(flow, facts: facts, maxBatch: 16, seed: 1)
        SyntheticBatch.fill(model, batch: 16, facts: facts, seed: 2)
        let step = TrainingStep(model: model, optimizer: OptimizerFactory.optimizer(for: model.plan,
                                                                                    settings: flow.flow.training.optimizer),
                                clipNorm: 1, reduction: asAPart ? TwoEqualParts(model) : OneProcess())
        #expect(model.tokenMasking.count == 1)
        func steps(_ count: Int) {
            for s in 0..<count {
                for masking in model.tokenMasking {
                    // As the loader does: the split's mask (every row counts) comes first.
                    masking.mask.update(repeating: 1, count: 16 * masking.length)
                    for b in 0..<16 { masking.apply(sample: b, row: b, seed: 1, epoch: s) }
                }
                step.run(batch: 16, learningRate: 0.001)
            }
        }
        steps(5)
        let before = allocation_count_this_thread()
        steps(50)
        let after = allocation_count_this_thread()
        #expect(after - before == 0, "\(after - before) allocations in 50 steps")
        #expect(model.plan.totalLoss.isFinite)
        #expect(model.tasks.allSatisfy { $0.loss.count > 0 })
        let wholeBatch = asAPart ? 2 : 1
        #expect(model.tasks.allSatisfy { $0.loss.divisor == wholeBatch * $0.loss.count })
    }

    /// A small flow on 3,000 tickets (5 epochs, a few seconds): the tags, which all depend on
    /// context, are learnt (about 0.9 entity F1), and the masked language model's metrics are
    /// logged per split and improve on chance (perplexity about 38 of a vocabulary of 200).
    @Test func aSmallTicketsFlowLearnsItsTags() throws {
        let directory = try temporaryDirectory("tickets")
        defer { try? FileManager.default.removeItem(at: directory) }
        try DemoDatasets.writeTickets(to: directory, count: 3000, seed: 7)
        let text = """
            name: tickets
            data: {train: train.csv, valid: valid.csv}
            inputs:
              text: {type: tokens, max_length: 32, lowercase: true}
            trunk:
              encoder: {from: text, layers: [embedding: 32, positional, transformer: {heads: 2, hidden: 64, dropout: 0}]}
              sentence: {from: encoder, layers: [pool: mean]}
            flow:
              tags: {type: token_classification, input: encoder}
              words: {type: masked_language_model, input: encoder, weight: 0.3}
              is_bug: {type: binary, input: sentence}
            train: {epochs: 5, batch_size: 32, seed: 5, optimizer: {name: adam, lr: 0.004}}
            """
        let flow = try FlowLoader.load(bytes: Array(text.utf8), file: directory.appendingPathComponent("tickets.yaml").path)
        let run = try RunDirectory.create(flowName: "tickets", explicit: directory.appendingPathComponent("run").path)
        let trainer = Trainer(flow: flow, data: try TrainingData.load(flow), run: run, epochs: 5, seed: 5,
                              flowText: text) { _, _ in }
        #expect(try trainer.train() == .finished)
        let metrics = try String(contentsOfFile: run.path("metrics.csv"), encoding: .utf8).split(separator: "\n")
        func value(_ prefix: String) throws -> Double {
            let line = try #require(metrics.last { $0.hasPrefix(prefix) }, "no \(prefix)")
            return try #require(Double(line.split(separator: ",")[4]))
        }
        let f1 = try value("5,valid,tags,entity_f1,"), perplexity = try value("5,valid,words,perplexity,")
        #expect(f1 >= 0.8, "entity F1 \(f1)")
        #expect(try value("5,valid,is_bug,accuracy,") >= 0.95)
        #expect(perplexity < 60, "perplexity \(perplexity)")
        #expect(try value("5,train,words,masked_accuracy,") > 0.1)
    }

    /// A masked language model pretrains an encoder alone; a later flow on the same texts
    /// starts its tagger's encoder from that run (`init:`) and trains on from those weights.
    @Test func aPretrainedEncoderStartsALaterFlow() throws {
        let directory = try temporaryDirectory("pretrain")
        defer { try? FileManager.default.removeItem(at: directory) }
        try DemoDatasets.writeTickets(to: directory, count: 300, seed: 4)
        func flow(_ tasks: String, init extra: String = "") -> String {
            """
            name: pretrain
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 24, lowercase: true}
            trunk:
              encoder: {from: text, layers: [embedding: 16, positional, transformer: {heads: 2, hidden: 32, dropout: 0}]\(extra)}
            flow:
              \(tasks)
            train: {epochs: 1, batch_size: 32, seed: 3}
            """
        }
        let pretraining = flow("words: {type: masked_language_model, input: encoder}")
        let first = try RunDirectory.create(flowName: "pretrain", explicit: directory.appendingPathComponent("first").path)
        let pretrainFlow = try FlowLoader.load(bytes: Array(pretraining.utf8), file: directory.appendingPathComponent("a.yaml").path)
        #expect(try Trainer(flow: pretrainFlow, data: TrainingData.load(pretrainFlow), run: first, epochs: 1, seed: 3,
                            flowText: pretraining) { _, _ in }.train() == .finished)
        let pretrained = try SafetensorsReader.read(path: first.path("model.safetensors"))

        let tagging = flow("tags: {type: token_classification, input: encoder}", init: ", init: first/model.safetensors")
        let later = try FlowLoader.load(bytes: Array(tagging.utf8), file: directory.appendingPathComponent("b.yaml").path)
        let data = try TrainingData.load(later)
        let model = ModelCompiler.compile(later, facts: data.statistics.facts, maxBatch: 32, seed: 9)
        try TrunkInitialization.apply(later, to: model.plan, flowDirectory: directory.path)
        let encoder = model.plan.parameters.filter { $0.name.hasPrefix("trunk.encoder.") }
        #expect(encoder.count > 10)
        for p in encoder {
            #expect(Array(UnsafeBufferPointer(start: p.value, count: p.count)) == pretrained.tensors[p.name]?.values, "\(p.name)")
        }
        let second = try RunDirectory.create(flowName: "pretrain", explicit: directory.appendingPathComponent("second").path)
        #expect(try Trainer(flow: later, data: data, run: second, epochs: 1, seed: 3, flowText: tagging) { _, _ in }.train()
                == .finished)
    }
}
