import FileFormats
import FlowSpec
import Foundation
import HandMadePNG
import Testing
@testable import FlowInference

/// `flowtrain init`'s inference on hand-made tables: every input and task type, preconditions
/// on a binary parent, on classes of a classification parent and along a nested chain, a
/// coincidence below the evidence not taken for one, IDs and constants left out. Each drafted
/// flow is loaded back as `check` loads it.
struct FlowDraftTests {
    /// A CSV of `rows` rows from per-row cell functions, in a fresh directory.
    static func csv(_ columns: [(String, (Int) -> String)], rows: Int) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowinference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var text = columns.map(\.0).joined(separator: ",") + "\n"
        for row in 0..<rows { text += columns.map { $0.1(row) }.joined(separator: ",") + "\n" }
        let path = directory.appendingPathComponent("data.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A fixed pseudo-random number in [0, 1) for (row, salt): the tables are the same every run.
    static func noise(_ row: Int, _ salt: Int) -> Double {
        var x = UInt64(row &* 7919 &+ salt &* 104_729) &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((x ^ (x >> 31)) >> 11) / Double(1 << 53)
    }

    static func draft(_ path: String, targets: [String]) throws -> (FlowDraft, ResolvedFlow) {
        let draft = try FlowDraft.infer(.init(data: [path], targets: targets, flowFile: nil))
        let flow = try FlowLoader.load(bytes: Array(draft.yaml.utf8), file: "drafted.yaml")
        return (draft, flow)
    }

    static func type(_ flow: ResolvedFlow, _ path: String) -> String? {
        flow.tasks.first { $0.path.description == path }.map { $0.spec.type.rawValue }
    }

    static func condition(_ flow: ResolvedFlow, _ path: String) -> String? {
        flow.tasks.first { $0.path.description == path }?.precondition.map { $0.text(\.description) }
    }

    @Test func inputAndTaskTypesFromTheValues() throws {
        let words = ["the", "door", "was", "left", "open", "by", "a", "red", "cat"]
        let path = try Self.csv([
            ("order_id", { String(1000 + $0) }),
            ("shop", { _ in "main" }),
            ("price", { Self.noise($0, 1) < 0.1 ? "" : String(format: "%.2f", 10 + 90 * Self.noise($0, 2)) }),
            ("colour", { ["red", "green", "blue"][$0 % 3] }),
            ("city", { "c\($0 % 20)" }),
            ("note", { r in (0..<(3 + r % 5)).map { words[(r + $0 * 3) % words.count] }.joined(separator: " ") }),
            ("ticket", { "t-\($0)" }),
            ("paid", { $0 % 2 == 0 ? "yes" : "no" }),
            ("size", { ["small", "medium", "large"][$0 % 3] }),
            ("tags", { ["a|b", "none", "a", "b|c"][$0 % 4] }),
            ("stars", { String(format: "%.1f", min(5, 5 * Self.noise($0, 3) * 1.3)) }),
            ("profit", { String(format: "%.2f", 50 * Self.noise($0, 4) - 20) }),
        ], rows: 200)
        let (draft, flow) = try Self.draft(path, targets: ["paid", "size", "tags", "stars", "profit"])

        let inputs = Dictionary(uniqueKeysWithValues: flow.inputs.map { ($0.input.name, $0.input) })
        #expect(inputs.keys.sorted() == ["city", "colour", "note", "numbers"])
        if case let .numeric(columns, _, missing)? = inputs["numbers"]?.kind {
            #expect(String(describing: columns).contains("price") && missing == .mean)
        } else {
            Issue.record("no numeric input: \(draft.yaml)")
        }
        if case let .category(encoding, _)? = inputs["colour"]?.kind { #expect(encoding == .oneHot) } else { Issue.record("colour") }
        // 20 values: an embedding of width round(1.6 · 20^0.56) = 9.
        if case let .category(encoding, _)? = inputs["city"]?.kind { #expect(encoding == .embedding(9)) } else { Issue.record("city") }
        if case let .tokens(settings)? = inputs["note"]?.kind { #expect(settings.maxLength == 8) } else { Issue.record("note") }
        #expect(draft.yaml.contains("# Left out: order_id, an ID: a different whole number in every row."))
        #expect(draft.yaml.contains("# Left out: shop, constant: every row holds 'main'."))
        #expect(draft.yaml.contains("# Left out: ticket, an ID: a different value in every row."))

        #expect(Self.type(flow, "paid") == "binary")
        #expect(Self.type(flow, "size") == "classification")
        #expect(Self.type(flow, "tags") == "multilabel")
        #expect(flow.tasks.first { $0.path.description == "tags" }?.spec.classes?.value == ["a", "b", "c"])
        #expect(Self.type(flow, "stars") == "bounded_regression")
        #expect(flow.tasks.first { $0.path.description == "stars" }?.spec.scale == 5)
        #expect(Self.type(flow, "profit") == "regression")
        #expect(flow.tasks.allSatisfy { $0.precondition == nil }, "no holes, no conditions: \(draft.yaml)")
    }

    /// door_locked is labelled only where the door is closed; sleeve only on red shirts, collar
    /// on red and blue ones; and the door's own flow only where the camera sees, with locked
    /// inside it only where the door is not open (a chain through a nested flow).
    @Test func preconditionsFromLabelsMissingTogether() throws {
        let rows = 400
        let blocked = { (r: Int) in Self.noise(r, 10) < 0.2 }
        let open = { (r: Int) in Self.noise(r, 11) < 0.5 }
        let shirt = { (r: Int) in ["red", "blue", "green"][Int(Self.noise(r, 12) * 3)] }
        let path = try Self.csv([
            ("x", { String(format: "%.3f", Self.noise($0, 1)) }),
            ("camera_blocked", { blocked($0) ? "1" : "0" }),
            ("door.open", { blocked($0) ? "" : open($0) ? "1" : "0" }),
            ("door.locked", { blocked($0) || open($0) ? "" : Self.noise($0, 13) < 0.5 ? "1" : "0" }),
            ("shirt", { shirt($0) }),
            ("sleeve", { shirt($0) == "red" ? (Self.noise($0, 14) < 0.5 ? "long" : "short") : "" }),
            ("collar", { shirt($0) != "green" ? String(format: "%.2f", Self.noise($0, 15)) : "" }),
        ], rows: rows)
        let (draft, flow) = try Self.draft(path, targets: ["camera_blocked", "door", "shirt", "sleeve", "collar"])
        #expect(Self.condition(flow, "door.open") == "not camera_blocked", "\(draft.yaml)")
        #expect(Self.condition(flow, "door.locked") == "not camera_blocked and not door.open", "\(draft.yaml)")
        #expect(draft.yaml.contains("  door:\n    # "), "the nested flow carries the condition: \(draft.yaml)")
        #expect(Self.condition(flow, "sleeve") == "shirt == red", "\(draft.yaml)")
        #expect(Self.condition(flow, "collar") == "shirt in [red, blue]" || Self.condition(flow, "collar") == "shirt in [blue, red]",
                "\(draft.yaml)")
        #expect(Self.condition(flow, "camera_blocked") == nil && Self.condition(flow, "shirt") == nil)
    }

    /// A label missing at random never makes a condition; nor do labels whose rows all happen to
    /// share a value when there are too few of them, or when most rows have that value anyway.
    @Test func coincidencesAreNotConditions() throws {
        let path = try Self.csv([
            ("x", { String(format: "%.3f", Self.noise($0, 1)) }),
            ("p", { $0 % 2 == 0 ? "1" : "0" }),
            ("q", { Self.noise($0, 2) < 0.97 ? "1" : "0" }),
            // Missing at random: half the rows.
            ("random", { Self.noise($0, 3) < 0.5 ? "" : String(format: "%.2f", Self.noise($0, 4)) }),
            // 20 labelled rows, every one with p true: below the 30 rows asked for.
            ("few", { $0 % 2 == 0 && $0 < 40 ? String($0) : "" }),
            // 60 labelled rows all with q true, but q is true on 97% of rows: 0.97^60 ≈ 0.16.
            ("common", { r in Self.noise(r, 2) < 0.97 && r % 5 == 0 ? String(r) : "" }),
        ], rows: 300)
        let (draft, flow) = try Self.draft(path, targets: ["p", "q", "random", "few", "common"])
        for task in ["random", "few", "common"] { #expect(Self.condition(flow, task) == nil, "\(task): \(draft.yaml)") }
    }

    @Test func badTargetsAreLocated() throws {
        let path = try Self.csv([("x", { String($0 % 7) }), ("y-1", { String($0 % 2) }), ("z", { _ in "1" }), ("w", { _ in "" })],
                                rows: 50)
        do {
            _ = try FlowDraft.infer(.init(data: [path], targets: ["y-1"], flowFile: nil))
            Issue.record("a column that is no task name was taken")
        } catch {
            #expect(error.description == "\(path):1: column 'y-1': 'y-1' is not a task name (a task's path is its label column: "
                    + "rename the column to letters, digits and _, with dots between nested flows)", "\(error)")
        }
        do {
            _ = try FlowDraft.infer(.init(data: [path], targets: ["z"], flowFile: nil))
            Issue.record("a constant target was taken")
        } catch {
            #expect(error.description.contains("target 'z' holds one value only ('1')"), "\(error)")
            #expect(error.location?.column == 3)
        }
        do {
            _ = try FlowDraft.infer(.init(data: [path], targets: ["xx", "v*"], flowFile: nil))
            Issue.record("targets that name no column were taken")
        } catch {
            #expect(error.description == "\(path):1: --targets: no column is 'xx' or starts with 'xx.' (did you mean 'x'?)\n"
                    + "\(path):1: --targets: no column is 'v*' or matches it (the header has x, y-1, z, w)", "\(error)")
        }
        do {
            _ = try FlowDraft.infer(.init(data: [path], targets: ["w"], flowFile: nil))
            Issue.record("a target without labels was taken")
        } catch {
            #expect(error.description == "\(path):1:4: column 'w': target 'w' has no label in any row "
                    + "(a task needs labels to learn from; leave the column out of --targets)", "\(error)")
        }
    }

    /// A table whose only other column is left out has no input: a problem that names why.
    @Test func noInputLeftIsAProblem() throws {
        let path = try Self.csv([("shop", { _ in "main" }), ("y", { String($0 % 2) })], rows: 40)
        do {
            _ = try FlowDraft.infer(.init(data: [path], targets: ["y"], flowFile: nil))
            Issue.record("a flow without inputs was drafted")
        } catch {
            #expect(error.description == "\(path):1: no column is left to be an input: shop is left out "
                    + "(a flow needs at least one input column besides the targets)", "\(error)")
        }
    }

    /// An image column's shape comes from its first PNG; a box within the image's side is a
    /// bounded regression scaled by it; the trunk has convolutions down to 8 pixels.
    @Test func imagesAndBoxes() throws {
        let path = try Self.csv([
            ("image", { "img\($0).png" }),
            ("box_x", { String(Int(Self.noise($0, 1) * 30)) }),
        ], rows: 40)
        let directory = (path as NSString).deletingLastPathComponent
        let png = HandMadePNG.file(width: 32, bitDepth: 8, colorType: HandMadePNG.rgb,
                                   rows: (0..<16).map { _ in [Int](repeating: 7, count: 32 * 3) })
        try Data(png).write(to: URL(fileURLWithPath: directory).appendingPathComponent("img0.png"))
        let (draft, flow) = try Self.draft(path, targets: ["box_x"])
        if case let .image(h, w, c, _)? = flow.inputs.first?.input.kind { #expect(h == 16 && w == 32 && c == 3) } else { Issue.record("\(draft.yaml)") }
        #expect(Self.type(flow, "box_x") == "bounded_regression")
        #expect(flow.tasks.first?.spec.scale == 32, "\(draft.yaml)")
        // 32 → 16 → 8: two stages.
        #expect(draft.yaml.components(separatedBy: "maxpool: 2").count == 3, "\(draft.yaml)")
    }
}
