import FlowSpec
import Foundation
import Report

/// `search.html`: one self-contained page (inline CSS and SVG, nothing fetched) with a search's
/// best trial, its objective against each parameter, a parallel-coordinates plot of every
/// trial, every trial's learning curve and the table of trials; links into the trials' run
/// directories are relative, so keep `trials/` beside it.
enum SearchPage {
    static func html(_ search: HyperparameterSearch, records: [TrialRecord], best: TrialRecord?, seconds: Double) -> String {
        let settings = search.settings, name = settings.objective.name
        var body = "<h1>\(e(search.flow.flow.name)) — hyper-parameter search</h1>\n"
        body += "<p class=\"meta\">\(e(search.directory.run.url.path)) · \(settings.algorithm.rawValue), \(records.count) trials"
        if search.rungs.count > 1 {
            body += " · rungs after \(HyperparameterSearch.list(search.rungs.map(String.init))) epochs (η \(settings.reduction))"
        }
        body += " · \(e(name)) \(settings.objective.goal == .minimize ? "minimised" : "maximised") · "
            + "\(String(format: "%.0f", seconds)) s</p>\n"
        body += bestSection(search, best: best)
        body += "<h2>Objective against each parameter</h2>\n<p>Each trial's \(e(name)) after the last rung it reached, "
            + "coloured by that rung; the best trial ringed.</p>\n<div class=\"plots\">\n"
        for index in settings.parameters.indices {
            body += "<figure>\(scatter(search, parameter: index, records: records, best: best))</figure>\n"
        }
        body += "</div>\n"
        body += "<h2>Parallel coordinates</h2>\n<p>One line per trial through its values and its \(e(name)): the trials "
            + "that trained every epoch shaded by it (darkest best), the others grey at the last rung they reached.</p>\n"
        body += "<figure>\(parallelCoordinates(search, records: records))</figure>\n"
        body += "<h2>Learning curves</h2>\n<p>Every trial's \(e(name)) after each epoch it trained (hover a line for its trial).</p>\n"
        var curves = LineChart(title: "\(name) by epoch", xLabel: "epoch", yLabel: name,
                               series: records.filter { !$0.curve.isEmpty }.map { record in
                                   LineChart.Series(name: "trial \(record.trial)",
                                                    points: record.curve.enumerated().map { (Double($0.offset + 1), $0.element) })
                               })
        curves.showsLegend = false
        body += "<figure>\(curves.svg(width: 960, height: 360))</figure>\n"
        body += table(search, records: records, best: best)
        return HTMLPage.document(title: "\(search.flow.flow.name) — flowtrain search", style: """
            tr.best td { background: #e8f4e8; font-weight: bold; }
            td.failed { color: #a04000; } td.stopped { color: #777; }
            figure { margin: 0; }
            """, body: body)
    }

    private static func bestSection(_ search: HyperparameterSearch, best: TrialRecord?) -> String {
        guard let best else { return "<h2>Best trial</h2>\n<p class=\"empty\">No trial trained every epoch.</p>\n" }
        var html = "<h2>Best trial: \(best.trial)</h2>\n<p>\(e(search.settings.objective.name)) "
            + "\(HyperparameterSearch.format(best.lastObjective)) after \(best.curve.count) epochs. Its flow: "
            + "<a href=\"best.yaml\">best.yaml</a>; its run: <a href=\"trials/\(best.trial)/report.html\">trials/\(best.trial)/</a>.</p>\n"
        html += "<table>\n<tr><th>parameter</th><th>value</th></tr>\n"
        for (parameter, value) in zip(search.settings.parameters, best.values) {
            html += "<tr><td>\(e(parameter.path))</td><td>\(e(value.text))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// The scale a parameter's values are plotted on, and each trial's value on it.
    private static func scale(_ domain: SearchSettings.Domain) -> ChartScale {
        switch domain {
        case .choice(let values): .categories(values.map(YAMLWriter.inline))
        case .logUniform: .log
        case .uniform, .integer: .linear
        }
    }

    private static func coordinate(_ value: TrialValue) -> Double { value.choice.map(Double.init) ?? value.number ?? .nan }

    private static func scatter(_ search: HyperparameterSearch, parameter: Int, records: [TrialRecord], best: TrialRecord?) -> String {
        let path = search.settings.parameters[parameter].path, rungs = search.rungs
        let reached = records.filter { $0.lastObjective != nil }
        let chart = ScatterChart(
            title: path, xLabel: path, yLabel: search.settings.objective.name,
            xScale: scale(search.settings.parameters[parameter].domain),
            groups: rungs.map { "after \($0) epoch\($0 == 1 ? "" : "s")" },
            points: reached.map { record in
                ScatterChart.Point(x: coordinate(record.values[parameter]), y: record.lastObjective ?? .nan,
                                   group: record.rungObjectives.count - 1,
                                   label: "trial \(record.trial): \(record.values[parameter].text) → "
                                       + HyperparameterSearch.format(record.lastObjective))
            },
            highlighted: reached.firstIndex { $0.trial == best?.trial })
        return chart.svg()
    }

    private static func parallelCoordinates(_ search: HyperparameterSearch, records: [TrialRecord]) -> String {
        let settings = search.settings
        let finals = records.filter { $0.status == .completed }.compactMap(\.lastObjective).filter { !$0.isNaN }
        let low = finals.min() ?? 0, high = finals.max() ?? 1
        let dimensions = settings.parameters.map { ParallelCoordinatesChart.Dimension(name: $0.path, scale: scale($0.domain)) }
            + [.init(name: settings.objective.name, scale: .linear)]
        let lines = records.filter { $0.lastObjective != nil }.map { record -> ParallelCoordinatesChart.Line in
            let objective = record.lastObjective ?? .nan
            var shade: Double?
            if record.status == .completed {
                let fraction = high > low ? (objective - low) / (high - low) : 1
                shade = settings.objective.goal == .minimize ? 1 - fraction : fraction
            }
            return .init(values: record.values.map(coordinate) + [objective], shade: shade,
                         label: "trial \(record.trial): \(search.describe(record.values)) → \(HyperparameterSearch.format(objective))")
        }
        return ParallelCoordinatesChart(title: "trials", dimensions: dimensions, lines: lines).svg()
    }

    private static func table(_ search: HyperparameterSearch, records: [TrialRecord], best: TrialRecord?) -> String {
        let settings = search.settings
        var html = "<h2>Trials</h2>\n<p>As <a href=\"trials.csv\">trials.csv</a> has them; each trial's run is in "
            + "<code>trials/&lt;n&gt;/</code>, its standard error in <code>logs/&lt;n&gt;.log</code>.</p>\n<table>\n<tr><th>trial</th>"
        html += settings.parameters.map { "<th>\(e($0.path))</th>" }.joined() + "<th>epochs</th>"
        html += search.rungs.map { "<th>\(e(settings.objective.name))@\($0)</th>" }.joined() + "<th>status</th></tr>\n"
        for record in records {
            html += "<tr\(record.trial == best?.trial ? " class=\"best\"" : "")><td class=\"num\">\(record.trial)</td>"
            html += record.values.map { "<td>\(e($0.text))</td>" }.joined() + "<td class=\"num\">\(record.curve.count)</td>"
            html += search.rungs.indices.map { rung in
                let value = rung < record.rungObjectives.count ? HyperparameterSearch.format(record.rungObjectives[rung]) : ""
                return "<td class=\"num\">\(value)</td>"
            }.joined()
            let status = record.status.rawValue + (record.note.isEmpty ? "" : ": " + record.note)
            html += "<td class=\"\(record.status.rawValue)\">\(e(status))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    private static func e(_ text: String) -> String { XMLText.escape(text) }
}
