import FileFormats
import Foundation
import Training

/// `worst_samples.svg`: per task a heat map of its hardest training samples across the epochs,
/// drawn from `worst_samples.csv`. Rows are the samples ever among the task's worst, the one
/// with the best (lowest) mean rank on top (an epoch outside the worst counts as rank K + 1);
/// columns are epochs; the shade is the sample's loss that epoch (white the task's lowest loss
/// shown, dark blue its highest), and the rank is written in the cell while the sample is among
/// the worst. A grey cell is an epoch before the sample was first among the worst, or one that
/// did not train it.
public struct WorstSamplesChart: Sendable {
    /// One line of `worst_samples.csv`.
    public struct Entry: Sendable, Equatable {
        public var epoch: Int
        public var taskPath: String
        /// Nil while the sample is tracked but not among the worst.
        public var rank: Int?
        public var row: Int
        public var loss: Double?

        public init(epoch: Int, taskPath: String, rank: Int?, row: Int, loss: Double?) {
            (self.epoch, self.taskPath, self.rank, self.row, self.loss) = (epoch, taskPath, rank, row, loss)
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    static let fileName = "worst_samples.svg"

    /// The lines of `worst_samples.csv` at `path`; none when it is missing or unreadable.
    public static func read(path: String) -> [Entry] {
        guard let table = try? CSVTable.read(path: path), table.header == WorstSamplesLog.header else { return [] }
        return (0..<table.rowCount).compactMap { line in
            guard let epoch = Int(table.string(row: line, column: 0)),
                  let row = Int(table.string(row: line, column: 3)) else { return nil }
            return Entry(epoch: epoch, taskPath: table.string(row: line, column: 1),
                         rank: Int(table.string(row: line, column: 2)), row: row, loss: table.number(row: line, column: 4))
        }
    }

    /// Writes `worst_samples.svg` from the run's `worst_samples.csv`, when it has one.
    public static func write(_ run: RunDirectory) throws(Problem) {
        let entries = read(path: run.path(WorstSamplesLog.fileName))
        guard !entries.isEmpty else { return }
        try run.write(fileName, Data(WorstSamplesChart(entries: entries).svg().utf8))
    }

    /// One task's part of the chart.
    struct Panel {
        var task: String
        /// Samples, top first.
        var rows: [Int]
        var cells: [Int: [Int: Entry]]  // row → epoch → entry
        var lowest: Double, highest: Double
    }

    /// The tasks in the order the file lists them, each with its rows ordered.
    func panels() -> [Panel] {
        var order: [String] = []
        var byTask: [String: [Entry]] = [:]
        for entry in entries {
            if byTask[entry.taskPath] == nil { order.append(entry.taskPath) }
            byTask[entry.taskPath, default: []].append(entry)
        }
        let epochs = Set(entries.map(\.epoch)).count
        return order.map { task in
            let lines = byTask[task] ?? []
            let beyond = (lines.compactMap(\.rank).max() ?? 0) + 1
            var cells: [Int: [Int: Entry]] = [:]
            for line in lines { cells[line.row, default: [:]][line.epoch] = line }
            func meanRank(_ row: Int) -> Double {
                let ranks = (cells[row] ?? [:]).values.compactMap(\.rank)
                return Double(ranks.reduce(0, +) + (epochs - ranks.count) * beyond) / Double(max(epochs, 1))
            }
            let rows = cells.keys.map { ($0, meanRank($0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
            let losses = lines.compactMap(\.loss)
            return Panel(task: task, rows: rows, cells: cells, lowest: losses.min() ?? 0, highest: losses.max() ?? 0)
        }
    }

    /// The heat maps, one under the other, as an `<svg>` element.
    public func svg() -> String {
        let title = "Worst training samples by epoch"
        let epochs = Array(Set(entries.map(\.epoch))).sorted()
        let panels = panels()
        guard !epochs.isEmpty, !panels.isEmpty else {
            var canvas = SVGCanvas(width: 260, height: 120, title: title)
            canvas.add("text", ["x": "130", "y": "70", "text-anchor": "middle", "fill": "#777777", "font-size": "13"],
                       text: "no data")
            return canvas.finished()
        }
        let cellWidth = Double(min(28, max(6, 600 / epochs.count))), cellHeight = 14.0
        let left = 16 + TextFit.width(characters: "row \(entries.map(\.row).max() ?? 0)".count, fontSize: 11) + 8
        let grid = cellWidth * Double(epochs.count)
        let width = Int(max(left + grid + 16, 320).rounded(.up))
        // Per panel: its heading and legend (34), its rows, the epoch numbers under it (30).
        let height = 30 + panels.reduce(0.0) { $0 + 34 + cellHeight * Double($1.rows.count) + 30 }
        var canvas = SVGCanvas(width: width, height: Int(height.rounded(.up)), title: title)
        let column = Dictionary(epochs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        // Epoch labels: every one when they fit, else every n-th.
        let labelEvery = max(1, Int((22 / cellWidth).rounded(.up)))
        var y = 30.0
        for panel in panels {
            canvas.add("text", ["x": SVGCanvas.number(16), "y": SVGCanvas.number(y + 14), "font-weight": "bold"],
                       text: panel.task)
            canvas.add("text", ["x": SVGCanvas.number(Double(width) - 16), "y": SVGCanvas.number(y + 14),
                                "text-anchor": "end", "fill": "#555555"],
                       text: "loss \(Self.text(panel.lowest)) (white) … \(Self.text(panel.highest)) (dark)")
            y += 34
            let top = y
            for row in panel.rows {
                canvas.add("text", ["x": SVGCanvas.number(left - 6), "y": SVGCanvas.number(y + cellHeight / 2),
                                    "dy": "0.32em", "text-anchor": "end"], text: "row \(row)")
                for epoch in epochs {
                    let x = left + Double(column[epoch] ?? 0) * cellWidth
                    let entry = panel.cells[row]?[epoch]
                    guard let entry, let loss = entry.loss else {
                        canvas.add("rect", ["x": SVGCanvas.number(x), "y": SVGCanvas.number(y),
                                            "width": SVGCanvas.number(cellWidth), "height": SVGCanvas.number(cellHeight),
                                            "fill": "#eeeeee", "stroke": "#ffffff"],
                                   tooltip: "row \(row), epoch \(epoch): not tracked")
                        continue
                    }
                    let span = panel.highest - panel.lowest
                    let colors = ChartPalette.heat(span > 0 ? (loss - panel.lowest) / span : 1)
                    canvas.open("g", tooltip: "row \(row), epoch \(epoch): loss \(Self.text(loss))"
                                + (entry.rank.map { ", rank \($0)" } ?? ", not among the worst"))
                    canvas.add("rect", ["x": SVGCanvas.number(x), "y": SVGCanvas.number(y),
                                        "width": SVGCanvas.number(cellWidth), "height": SVGCanvas.number(cellHeight),
                                        "fill": colors.fill, "stroke": "#ffffff"])
                    if let rank = entry.rank, cellWidth >= 14 {
                        canvas.add("text", ["x": SVGCanvas.number(x + cellWidth / 2), "y": SVGCanvas.number(y + cellHeight / 2),
                                            "dy": "0.32em", "text-anchor": "middle", "fill": colors.text, "font-size": "9"],
                                   text: String(rank))
                    }
                    canvas.close()
                }
                y += cellHeight
            }
            canvas.add("rect", ["x": SVGCanvas.number(left), "y": SVGCanvas.number(top), "width": SVGCanvas.number(grid),
                                "height": SVGCanvas.number(y - top), "fill": "none", "stroke": "#888888"])
            for (index, epoch) in epochs.enumerated() where index % labelEvery == 0 {
                canvas.add("text", ["x": SVGCanvas.number(left + (Double(index) + 0.5) * cellWidth),
                                    "y": SVGCanvas.number(y + 13), "text-anchor": "middle"], text: String(epoch))
            }
            canvas.add("text", ["x": SVGCanvas.number(left + grid / 2), "y": SVGCanvas.number(y + 26),
                                "text-anchor": "middle", "fill": "#333333"], text: "epoch")
            y += 30
        }
        return canvas.finished()
    }

    /// Three significant digits: enough to tell losses apart in a tooltip.
    static func text(_ value: Double) -> String { String(format: "%.3g", value) }
}
