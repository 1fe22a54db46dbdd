import Foundation
import Testing
@testable import FlowSpec

struct FlowResolutionTests {
    func when(_ flow: ResolvedFlow, _ path: String) -> String? {
        flow.tasks.first { $0.path.description == path }?.precondition?.text(\.description)
    }

    @Test func namesResolveToTheNearestSiblingThenUpTheTree() throws {
        let flow = try load(minimalHeader + """
            flow:
              x: {type: binary}
              top: {type: binary, when: x}
              g:
                flow:
                  x: {type: binary}
                  y: {type: binary, when: x}
                  h:
                    flow:
                      k: {type: binary, when: x}
                      m: {type: binary, when: top}
              z: {type: binary, when: g.x and not x}
            """)
        #expect(when(flow, "top") == "x")
        #expect(when(flow, "g.y") == "g.x")
        #expect(when(flow, "g.h.k") == "g.x")
        #expect(when(flow, "g.h.m") == "top")
        #expect(when(flow, "z") == "g.x and not x")
    }

    @Test func dottedPathsResolveRelativelyAndFromTheRoot() throws {
        let flow = try load(minimalHeader + """
            flow:
              g:
                flow:
                  h:
                    flow:
                      a: {type: binary}
                  b: {type: binary, when: h.a}
              c: {type: binary, when: g.h.a}
            """)
        #expect(when(flow, "g.b") == "g.h.a")
        #expect(when(flow, "c") == "g.h.a")
    }

    @Test func aFullDottedPathWinsOverARelativeReading() throws {
        // Inside flow `a`, `a.x` could be read relative to `a` (a.a.x); the full path wins.
        let flow = try load(minimalHeader + """
            flow:
              a:
                flow:
                  x: {type: binary}
                  a:
                    flow:
                      x: {type: binary}
                  y: {type: binary, when: a.x}
                  z: {type: binary, when: x}
            """)
        #expect(when(flow, "a.y") == "a.x")
        #expect(when(flow, "a.z") == "a.x")
    }

    @Test func aliasedAndFoldedConditionsKeepEveryName() throws {
        // Names in an aliased or folded `when:` share one location; each must keep its task.
        let flow = try load(minimalHeader + """
            flow:
              door_open: {type: binary}
              camera_ok: {type: binary}
              kind: {type: classification, classes: [p, q]}
              person: {type: binary, when: &gate door_open and not camera_ok}
              face: {type: binary, when: *gate}
              other:
                type: binary
                when: >
                  kind == p and door_open
            """)
        #expect(when(flow, "person") == "door_open and not camera_ok")
        #expect(when(flow, "face") == "door_open and not camera_ok")
        #expect(when(flow, "other") == "kind == p and door_open")
    }

    @Test func topLevelXKeysHoldAnchorsAndAreIgnored() throws {
        let flow = try load(minimalHeader + """
            x-head: &head [dense: 8, relu]
            flow:
              a: {type: binary, head: *head}
            """)
        #expect(flow.tasks[0].head.count == 2)
    }

    @Test func nestedFlowConditionsComposeWithAnd() throws {
        let flow = try load(minimalHeader + """
            flow:
              a: {type: binary}
              b: {type: binary}
              kind: {type: classification, classes: [p, q, r]}
              outer:
                when: a or b
                flow:
                  c: {type: binary}
                  inner:
                    when: not c
                    flow:
                      t: {type: regression, when: "kind in [p, q]"}
                      u: {type: regression}
            """)
        #expect(when(flow, "outer.inner.t") == "(a or b) and not outer.c and kind in [p, q]")
        #expect(when(flow, "outer.inner.u") == "(a or b) and not outer.c")
        #expect(when(flow, "outer.c") == "a or b")
        #expect(when(flow, "a") == nil)
        #expect(flow.task(TaskPath(["outer", "inner", "t"]))?.dependencies.map(\.description) == ["a", "b", "outer.c", "kind"])
    }

    @Test func tasksAreOrderedAfterTheTasksTheyDependOn() throws {
        let flow = try load(minimalHeader + """
            flow:
              late: {type: binary, when: middle}
              middle: {type: binary, when: not first}
              other: {type: regression}
              first: {type: binary}
            """)
        #expect(flow.tasks.map(\.path.description) == ["other", "first", "middle", "late"])
    }

    @Test func securityFlowComposesPreconditionsAlongTheTree() throws {
        let flow = try FlowLoader.load(path: repositoryRoot + "/flows/security.yaml")
        #expect(when(flow, "door_locked") == "not door_open")
        #expect(when(flow, "person_regression.face_regression.face_x1") == "person_present")
        #expect(flow.tasks.count == 14)  // 4 at the top, 5 under face_regression, 5 under body_regression
        #expect(flow.tasks.first?.path.description == "camera_blocked")
    }

    @Test func shapesAndParameterCountsMatchHandComputation() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              image: {type: image, shape: [8, 8, 1]}
            trunk:
              body:
                from: image
                layers: [conv: {filters: 4, kernel: 3}, relu, maxpool: 2, flatten, dense: 10, batchnorm]
              wide:
                from: image
                layers: [conv: {filters: 2, kernel: 3, stride: 2, padding: same}, global_avgpool]
            flow:
              kind: {type: classification, classes: [a, b, c]}
              size: {type: regression, input: wide, head: [dense: 5, relu]}
            """)
        let body = try #require(flow.branches.first { $0.branch.name == "body" })
        #expect(body.layers.map(\.output.description) == ["[6, 6, 4]", "[6, 6, 4]", "[3, 3, 4]", "[36]", "[10]", "[10]"])
        // conv 3·3·1·4 + 4; dense 36·10 + 10; batchnorm scale and shift per feature.
        #expect(body.layers.map { $0.parameters.known } == [40, 0, 0, 0, 370, 20])
        let wide = try #require(flow.branches.first { $0.branch.name == "wide" })
        // `same` with stride 2 keeps ceil(8 / 2) = 4.
        #expect(wide.layers.map(\.output.description) == ["[4, 4, 2]", "[2]"])
        #expect(wide.parameters.known == 3 * 3 * 1 * 2 + 2)
        let kind = try #require(flow.task(TaskPath(["kind"])))
        #expect(kind.inputName == "wide")  // the default is the last branch declared
        #expect(kind.output.description == "[3]")
        #expect(kind.parameters.known == 2 * 3 + 3)
        let size = try #require(flow.task(TaskPath(["size"])))
        #expect(size.parameters.known == (2 * 5 + 5) + (5 + 1))
        #expect(flow.trunkParameters.known == 40 + 370 + 20 + 20)
    }

    @Test func countsThatDependOnDataAreFormulas() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: "f*", missing: zero}
              c: {type: category, embedding: 3}
            trunk:
              body: {from: [x, c], layers: [dense: 8]}
            flow:
              kind: {type: classification}
              tags: {type: multilabel}
            """)
        let body = try #require(flow.branches.first)
        #expect(body.inputShape.description == "[3 + columns(f*)]")
        #expect(body.parameters.description == "32 + 8×columns(f*)")
        #expect(flow.inputs[1].parameters.description == "3×vocabulary(c)")
        #expect(flow.task(TaskPath(["kind"]))?.parameters.description == "9×classes(kind)")
        #expect(flow.task(TaskPath(["tags"]))?.output.description == "[labels(tags)]")
    }

    @Test func tokensFlowThroughAnEmbeddingToPerTokenClasses() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 12}
            trunk:
              words: {from: text, layers: [embedding: 16, dense: 8, layernorm]}
            flow:
              tags: {type: token_classification, classes: [O, PER, LOC]}
              topic: {type: binary, head: [global_avgpool]}
            """)
        let words = try #require(flow.branches.first)
        #expect(words.layers.map(\.output.description) == ["[12, 16]", "[12, 8]", "[12, 8]"])
        #expect(words.layers[0].parameters.description == "16×vocabulary(text)")
        #expect(words.layers[1].parameters.known == 16 * 8 + 8)
        #expect(flow.task(TaskPath(["tags"]))?.output.description == "[12, 3]")
        #expect(flow.task(TaskPath(["tags"]))?.parameters.known == 9 * 3)
        #expect(flow.task(TaskPath(["topic"]))?.output.description == "[1]")
    }

    /// The sequence layers: shapes, parameter counts (a transformer's hidden width defaulting to
    /// 4 × its features) and the tokens input's settings.
    @Test func sequenceLayersKeepPositionsUntilAPool() throws {
        let flow = try load("""
            name: t
            data: {train: train.csv}
            inputs:
              text: {type: tokens, max_length: 12, tokenize: characters, lowercase: true, max_vocabulary: 500}
              words: {type: tokens, max_length: 4}
            trunk:
              body:
                from: text
                layers: [embedding: 16, positional, conv1d: {filters: 8, kernel: 3, dilation: 2}, attention: 2,
                         transformer: {heads: 4}, transformer: {heads: 2, hidden: 10, dropout: 0}, pool: max]
            flow:
              y: {type: binary}
            """)
        let body = try #require(flow.branches.first)
        #expect(body.layers.map(\.output.description)
                == ["[12, 16]", "[12, 16]", "[12, 8]", "[12, 8]", "[12, 8]", "[12, 8]", "[8]"])
        let d = 8
        #expect(body.layers.map(\.parameters.known) == [nil, 12 * 16, 3 * 16 * 8 + 8, 4 * d * d + 4 * d,
                                                        4 * d * d + 4 * d + 4 * d + 2 * d * 32 + 32 + d,
                                                        4 * d * d + 4 * d + 4 * d + 2 * d * 10 + 10 + d, 0])
        guard case .tokens(let settings) = flow.inputs[0].input.kind, case .tokens(let defaults) = flow.inputs[1].input.kind
        else { Issue.record("not tokens inputs"); return }
        #expect(settings == TokenSettings(maxLength: 12, minCount: 1, maxVocabulary: 500, split: .characters, lowercase: true))
        #expect(defaults == TokenSettings(maxLength: 4))
        #expect(defaults.split == .whitespace && !defaults.lowercase && defaults.maxVocabulary == nil)
    }

    @Test func anchorsAliasesAndMergeKeysWork() throws {
        let flow = try load(minimalHeader + """
            trunk:
              body: {from: x, layers: &block [dense: 16, relu]}
              more: {from: body, layers: *block}
            flow:
              base: &box {type: bounded_regression, scale: 10, head: [dense: 4]}
              wide:
                <<: *box
                scale: 100
            """)
        #expect(flow.branches.map(\.layers.count) == [2, 2])
        let wide = try #require(flow.task(TaskPath(["wide"])))
        #expect(wide.spec.scale == 100)
        #expect(wide.spec.type == .boundedRegression)
        #expect(wide.head.count == 1)
    }

    @Test func defaultsAreFilledIn() throws {
        let flow = try load(minimalHeader + "flow:\n  a: {type: binary}\n")
        let train = flow.flow.training
        #expect(train.epochs == 10 && train.batchSize == 32 && train.seed == 1)
        #expect(train.optimizer.name == .adam && train.optimizer.learningRate == 0.001)
        #expect(train.schedule == Schedule(kind: .cooldown(fraction: 0.5), warmupEpochs: 0))
        #expect(train.lossWeighting == .fixed && train.sampling == .shuffle)
        #expect(flow.flow.data.missingMarkers == ["", "NA", "NaN", "null"])
        #expect(flow.tasks[0].inputName == "x")  // no trunk: the only input
        #expect(flow.tasks[0].spec.weight == 1)
    }
}

/// The package root, for tests that read shipped flows.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
