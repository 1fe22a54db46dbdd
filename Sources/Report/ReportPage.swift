import Evaluation
import FileFormats
import FlowSpec
import Foundation
import Training

/// `report.html`: one self-contained page (inline CSS and SVG, nothing fetched) with what a
/// run directory holds — the flow's task tree, training at a glance, the evaluation table with
/// both precondition views side by side, the tuned thresholds, the calibrated temperatures, and
/// every plot in `plots/`.
/// It is assembled from the files, so each command that adds something refreshes it.
public enum ReportPage {
    public static func write(_ run: RunDirectory, flow: ResolvedFlow) throws(Problem) {
        try run.write("report.html", Data(html(run, flow: flow).utf8))
    }

    static func html(_ run: RunDirectory, flow: ResolvedFlow) -> String {
        let state = (FileManager.default.contents(atPath: run.path("state.json")))
            .flatMap { try? JSONDecoder().decode(RunState.self, from: $0) }
        var body = "<h1>\(e(flow.flow.name))</h1>\n"
        body += "<p class=\"meta\">\(e(run.url.path))"
        if let state {
            body += " · \(state.epochsDone) epochs, best \(state.bestEpoch) · seed \(state.seed) · flowtrain \(e(state.flowtrainVersion))"
        }
        body += "</p>\n"
        body += "<h2>Tasks</h2>\n" + tree(flow) + "\n"
        body += evaluation(run)
        body += thresholds(run)
        body += calibration(run)
        body += plots(run, flow: flow)
        body += diagnostics(run)
        body += interpretation(run)
        return HTMLPage.document(title: "\(flow.flow.name) — flowtrain report", style: """
            ul.tree, ul.tree ul { list-style: none; padding-left: 1.4em; border-left: 1px solid #ccc; margin: 0.2em 0; }
            ul.tree { border-left: none; padding-left: 0; }
            .type { color: #555; font-size: 0.9em; } .when { color: #8a4b00; font-family: monospace; }
            .flow { font-weight: bold; }
            .plots figure { margin: 0; }
            .sheets figure { margin: 0 0 1em 0; } .sheets img { max-width: 100%; height: auto; }
            tr.flagged td { background: #fff4e5; } .flag { color: #a04000; }
            """, body: body)
    }

    /// The task tree as written, each task with its type and its own `when`.
    static func tree(_ flow: ResolvedFlow) -> String {
        func items(_ nodes: [TaskTreeNode]) -> String {
            nodes.map { node -> String in
                switch node {
                case .task(let index):
                    let task = flow.tasks[index]
                    var text = "<li>\(e(task.path.name)) <span class=\"type\">\(task.spec.type.rawValue)"
                    if let classes = task.spec.classes?.value, !classes.isEmpty {
                        text += " [\(e(classes.joined(separator: ", ")))]"
                    }
                    text += " · input \(e(task.inputName))</span>"
                    if let when = task.ownPrecondition { text += " <span class=\"when\">when \(e(when.text(\.name)))</span>" }
                    return text + "</li>"
                case .flow(let path, let when, let children):
                    var text = "<li><span class=\"flow\">\(e(path.name))</span>"
                    if let when { text += " <span class=\"when\">when \(e(when.text(\.name)))</span>" }
                    return text + "<ul>" + items(children) + "</ul></li>"
                }
            }.joined(separator: "\n")
        }
        return "<ul class=\"tree\">\n" + items(flow.tree) + "\n</ul>"
    }

    /// evaluation.csv with the two views side by side.
    static func evaluation(_ run: RunDirectory) -> String {
        let rows = RunEvaluation.read(path: run.path("evaluation.csv"))
        guard !rows.isEmpty else {
            return "<h2>Evaluation</h2>\n<p class=\"empty\">Not evaluated yet: run <code>flowtrain eval</code>.</p>\n"
        }
        var keys: [String] = []
        var byKey: [String: [String: RunEvaluation.Row]] = [:]
        for row in rows {
            let key = row.taskPath + "\u{0}" + row.metric.name
            if byKey[key] == nil { keys.append(key) }
            byKey[key, default: [:]][row.preconditions] = row
        }
        var html = "<h2>Evaluation — \(e(rows[0].split))</h2>\n"
        html += "<p>Ground truth: rows where the precondition holds on the labels. Predicted: where it holds on the "
            + "model's own decisions (what deployment sees).</p>\n"
        html += "<table>\n<tr><th>task</th><th>metric</th><th>ground truth</th><th>rows</th><th>predicted</th><th>rows</th></tr>\n"
        for key in keys {
            let views = byKey[key] ?? [:]
            guard let any = views["ground_truth"] ?? views["predicted"] else { continue }
            func cells(_ view: String) -> String {
                guard let row = views[view] else { return "<td class=\"num\">–</td><td class=\"num\">0</td>" }
                return "<td class=\"num\">\(String(format: "%.4f", row.metric.value))</td><td class=\"num\">\(row.metric.count)</td>"
            }
            html += "<tr><td>\(e(any.taskPath))</td><td>\(e(any.metric.name))</td>\(cells("ground_truth"))\(cells("predicted"))</tr>\n"
        }
        return html + "</table>\n"
    }

    static func thresholds(_ run: RunDirectory) -> String {
        guard let file = try? Thresholds.read(path: run.path("thresholds.yaml")) else { return "" }
        var html = "<h2>Thresholds — tuned on \(e(file.split)) for \(e(file.metric))</h2>\n<table>\n"
        html += "<tr><th>task</th><th>label</th><th>threshold</th><th>at 0.5</th><th>tuned</th><th>rows</th></tr>\n"
        func row(_ path: String, _ label: String, _ entry: Thresholds.Entry) -> String {
            "<tr><td>\(e(path))</td><td>\(e(label))</td><td class=\"num\">\(String(format: "%.4f", entry.threshold))</td>"
                + "<td class=\"num\">\(String(format: "%.4f", entry.before))</td>"
                + "<td class=\"num\">\(String(format: "%.4f", entry.after))</td><td class=\"num\">\(entry.rows)</td></tr>\n"
        }
        for (path, task) in file.tasks {
            switch task {
            case .binary(let entry): html += row(path, "", entry)
            case .labels(let labels): for (name, entry) in labels { html += row(path, name, entry) }
            }
        }
        return html + "</table>\n"
    }

    /// calibration.yaml: each task's temperature and what it changed on the rows it was fitted on.
    static func calibration(_ run: RunDirectory) -> String {
        guard let file = try? Calibration.read(path: run.path(Calibration.fileName)) else { return "" }
        var html = "<h2>Calibration — temperatures fitted on \(e(file.split))</h2>\n"
        html += "<p>Activations are σ(z / T) and softmax(z / T). NLL: mean negative log-likelihood; ECE: expected "
            + "calibration error (15 bins); before at T = 1, after at T, on the rows each task counts on.</p>\n<table>\n"
        html += "<tr><th>task</th><th>T</th><th>rows</th><th>NLL before</th><th>NLL after</th><th>ECE before</th>"
            + "<th>ECE after</th><th>note</th></tr>\n"
        func cell(_ value: Double?) -> String {
            "<td class=\"num\">" + (value.map { String(format: "%.4f", $0) } ?? "–") + "</td>"
        }
        for (path, entry) in file.tasks {
            html += "<tr><td>\(e(path))</td>" + cell(Double(entry.temperature)) + "<td class=\"num\">\(entry.rows)</td>"
                + cell(entry.nllBefore) + cell(entry.nllAfter) + cell(entry.eceBefore) + cell(entry.eceAfter)
                + "<td>\(e(entry.note ?? ""))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// The plot kinds (file-name prefixes) in the page's order, with their headings.
    static let plotSections = [
        ("learning-loss", "Learning curves: loss"), ("learning-metric", "Learning curves: metric"),
        ("confusion", "Confusion matrices (ground-truth preconditions)"),
        ("roc", "ROC curves (ground-truth preconditions)"),
        ("pr", "Precision–recall curves (ground-truth preconditions)"),
        ("predicted-actual", "Predicted against actual (ground-truth preconditions)"),
        ("threshold", "Metric by threshold"),
        ("reliability", "Reliability diagrams (ground-truth preconditions)"),
    ]

    /// Every SVG in plots/, grouped by kind, inline, each group in the flow's order.
    static func plots(_ run: RunDirectory, flow: ResolvedFlow) -> String {
        let directory = run.path(RunPlots.directory)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".svg") }
        let order = PlotOrder(flow)
        var html = ""
        for (kind, title) in plotSections {
            let group = files.compactMap { file -> (rank: Int, file: String)? in
                guard file.hasPrefix(kind + "-") else { return nil }
                return (order.rank(String(file.dropFirst(kind.count + 1).dropLast(4))), file)
            }.sorted { ($0.rank, $0.file) < ($1.rank, $1.file) }
            guard !group.isEmpty else { continue }
            html += "<h2>\(title)</h2>\n<div class=\"plots\">\n"
            for (_, file) in group {
                guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
                var svg = String(decoding: data, as: UTF8.self)
                if svg.hasPrefix("<?xml"), let end = svg.range(of: "?>") { svg = String(svg[end.upperBound...]) }
                html += "<figure>\(svg)</figure>\n"
            }
            html += "</div>\n"
        }
        return html
    }

    /// The statistics `diagnostics.csv` holds for the last epoch it has, per layer, each layer
    /// with what looks wrong (`flags`), and the worst-samples heat map.
    static func diagnostics(_ run: RunDirectory) -> String {
        var html = ""
        if let table = try? CSVTable.read(path: run.path(LayerStatistics.fileName)), table.header == LayerStatistics.header,
           let last = (0..<table.rowCount).compactMap({ Int(table.string(row: $0, column: 0)) }).max() {
            var layers: [String] = []
            var values: [String: [String: Double]] = [:]
            for row in 0..<table.rowCount where Int(table.string(row: row, column: 0)) == last {
                let layer = table.string(row: row, column: 1)
                if values[layer] == nil { layers.append(layer) }
                values[layer, default: [:]][table.string(row: row, column: 2)] = table.number(row: row, column: 3)
            }
            let columns = ["activation_mean", "activation_std", "zero_fraction", "gradient_norm", "weight_norm", "update_ratio"]
            html += "<h2>Training diagnostics — epoch \(last)</h2>\n"
            html += "<p>Each layer on the epoch's last training step: its output (after its activation), its weight's "
                + "gradient and norm, and how far the step moved it (‖ΔW‖ / ‖W‖). Every epoch is in "
                + "<code>diagnostics.csv</code> and in TensorBoard under <code>diagnostics/</code>.</p>\n<table>\n<tr><th>layer</th>"
                + columns.map { "<th>\($0.replacingOccurrences(of: "_", with: " "))</th>" }.joined() + "<th>looks wrong</th></tr>\n"
            for layer in layers {
                let statistics = values[layer] ?? [:]
                let flags = Self.flags(statistics)
                html += "<tr\(flags.isEmpty ? "" : " class=\"flagged\"")><td>\(e(layer))</td>"
                html += columns.map { name in
                    statistics[name].map { "<td class=\"num\">\(String(format: "%.4g", $0))</td>" } ?? "<td class=\"num\">–</td>"
                }.joined()
                html += "<td class=\"flag\">\(e(flags.joined(separator: "; ")))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if let data = FileManager.default.contents(atPath: run.path(WorstSamplesChart.fileName)) {
            if html.isEmpty { html += "<h2>Training diagnostics</h2>\n" }
            html += "<h3>Worst training samples by epoch</h3>\n<p>Per task, the training samples with the highest loss each "
                + "epoch (<code>worst_samples.csv</code>; <code>row</code> is the 0-based data row).</p>\n"
                + "<figure>\(String(decoding: data, as: UTF8.self))</figure>\n"
        }
        return html
    }

    /// What a layer's statistics suggest is wrong, from the healthy ranges in docs/training.md.
    static func flags(_ statistics: [String: Double]) -> [String] {
        var flags: [String] = []
        if let zeros = statistics["zero_fraction"], zeros > 0.9 { flags.append("dead ReLUs: \(Int((zeros * 100).rounded()))% zeros") }
        if let gradient = statistics["gradient_norm"], gradient == 0 { flags.append("no gradient") }
        if let ratio = statistics["update_ratio"] {
            if ratio > 1e-1 { flags.append("update too large") }
            if ratio < 1e-4 { flags.append("update too small") }
        }
        if statistics.values.contains(where: { !$0.isFinite }) { flags.append("not finite") }
        return flags
    }

    /// The best and worst samples: each task's table linked, and its contact sheets (image
    /// inputs) shown in the page from their files, worst first, by relative paths that hold
    /// wherever the run directory is moved.
    static func interpretation(_ run: RunDirectory) -> String {
        let directory = run.path(Interpretation.directory)
        let files = Set((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        let tables = files.filter { $0.hasSuffix(".csv") }.sorted()
        guard !tables.isEmpty else { return "" }
        var html = "<h2>Best and worst samples</h2>\n<p>Per task, by its own loss, in <code>interpretation/</code>: "
            + tables.map { "<a href=\"interpretation/\(e($0))\">\(e($0))</a>" }.joined(separator: " · ") + "</p>\n"
        let sheets = tables.flatMap { table in
            ["worst", "best"].map { "\(table.dropLast(4))-\($0).png" }.filter(files.contains)
        }
        guard !sheets.isEmpty else { return html }
        html += "<div class=\"sheets\">\n"
        for sheet in sheets {
            html += "<figure><img src=\"interpretation/\(e(sheet))\" alt=\"\(e(sheet))\"></figure>\n"
        }
        return html + "</div>\n"
    }

    private static func e(_ text: String) -> String { XMLText.escape(text) }
}
