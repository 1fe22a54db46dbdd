/// A confusion matrix as a self-contained SVG heat map: actual classes down, predicted across,
/// the count written in each cell. Shading is row-normalised (the share of each actual class
/// predicted as each class), so a rare class's errors show as clearly as a common one's; the
/// chart sizes itself to the number of classes.
public struct ConfusionMatrixChart: Sendable {
    public var title: String
    public var classNames: [String]
    /// `counts[actual][predicted]`. A missing row or cell counts as 0, and a class without a
    /// name is shown by its index, so a ragged matrix still draws.
    public var counts: [[Int]]

    public init(title: String, classNames: [String], counts: [[Int]]) {
        self.title = title
        self.classNames = classNames
        self.counts = counts
    }

    /// The heat map as an `<svg>` element, about 360 pixels square plus labels.
    public func svg() -> String {
        var size = max(classNames.count, counts.count)
        for row in counts { size = max(size, row.count) }
        guard size > 0 else { return emptySVG() }

        var names: [String] = [], shortNames: [String] = []
        var labelWidth = 0.0
        for index in 0..<size {
            let name = index < classNames.count ? classNames[index] : String(index)
            let short = TextFit.truncated(name, to: 16)
            names.append(name)
            shortNames.append(short)
            labelWidth = max(labelWidth, TextFit.width(characters: short.count, fontSize: 11))
        }
        var digits = 1
        for actual in 0..<size {
            for predicted in 0..<size { digits = max(digits, String(count(actual, predicted)).count) }
        }

        // Cells shrink with more classes, within what still shows a count and can be pointed at.
        let cell = Double(min(56, max(16, 360 / size)))
        let grid = cell * Double(size)
        let top = 30.0
        // Column names turn 45° when they are wider than their column.
        let turned = labelWidth > cell - 4
        let columnLabelHeight = turned ? labelWidth * 0.71 + 14 : 18
        let titleWidth = TextFit.width(characters: title.count, fontSize: 13) + 16
        let content = 32 + labelWidth + grid + 16
        let width = Int(max(content, min(titleWidth, 640), 220).rounded(.up))
        // A small matrix under a wide title is centred: its left edge moves by half the slack.
        let left = 32 + labelWidth + (Double(width) - content) / 2
        let height = Int((top + grid + columnLabelHeight + 24).rounded(.up))

        var canvas = SVGCanvas(width: width, height: height, title: title)
        canvas.add("text", ["x": SVGCanvas.number(left + grid / 2),
                            "y": SVGCanvas.number(top + grid + columnLabelHeight + 14),
                            "text-anchor": "middle", "fill": "#333333"], text: "predicted")
        let actualTitle = SVGCanvas.translate(left - labelWidth - 18, top + grid / 2, then: "rotate(-90)")
        canvas.add("text", ["transform": actualTitle,
                            "text-anchor": "middle", "fill": "#333333"], text: "actual")

        let countFontSize = min(12, max(5, cell * 0.85 / (0.6 * Double(digits))))
        for actual in 0..<size {
            var rowTotal = 0
            for predicted in 0..<size { rowTotal += max(count(actual, predicted), 0) }
            let y = top + Double(actual) * cell
            canvas.add("text", ["x": SVGCanvas.number(left - 6), "y": SVGCanvas.number(y + cell / 2), "dy": "0.32em",
                                "text-anchor": "end"],
                       text: shortNames[actual], tooltip: shortNames[actual] == names[actual] ? nil : names[actual])
            for predicted in 0..<size {
                let value = count(actual, predicted)
                let share = rowTotal > 0 ? Double(max(value, 0)) / Double(rowTotal) : 0
                let colors = ChartPalette.heat(share)
                let x = left + Double(predicted) * cell
                canvas.open("g", tooltip: "actual \(names[actual]), predicted \(names[predicted]): \(value)"
                            + " (\(DecimalText.text(share * 100, decimals: 1))% of actual \(names[actual]))")
                canvas.add("rect", ["x": SVGCanvas.number(x), "y": SVGCanvas.number(y), "width": SVGCanvas.number(cell),
                                    "height": SVGCanvas.number(cell), "fill": colors.fill, "stroke": "#ffffff"])
                canvas.add("text", ["x": SVGCanvas.number(x + cell / 2), "y": SVGCanvas.number(y + cell / 2),
                                    "dy": "0.32em", "text-anchor": "middle", "fill": colors.text,
                                    "font-size": SVGCanvas.number(countFontSize)], text: String(value))
                canvas.close()
            }
        }
        for predicted in 0..<size {
            let x = left + (Double(predicted) + 0.5) * cell, y = top + grid + 14
            let tooltip = shortNames[predicted] == names[predicted] ? nil : names[predicted]
            if turned {
                canvas.add("text", ["transform": SVGCanvas.translate(x + 4, y - 6, then: "rotate(-45)"),
                                    "text-anchor": "end"], text: shortNames[predicted], tooltip: tooltip)
            } else {
                canvas.add("text", ["x": SVGCanvas.number(x), "y": SVGCanvas.number(y), "text-anchor": "middle"],
                           text: shortNames[predicted], tooltip: tooltip)
            }
        }
        canvas.add("rect", ["x": SVGCanvas.number(left), "y": SVGCanvas.number(top), "width": SVGCanvas.number(grid),
                            "height": SVGCanvas.number(grid), "fill": "none", "stroke": "#888888"])
        return canvas.finished()
    }

    private func count(_ actual: Int, _ predicted: Int) -> Int {
        guard actual < counts.count, predicted < counts[actual].count else { return 0 }
        return counts[actual][predicted]
    }

    private func emptySVG() -> String {
        var canvas = SVGCanvas(width: 240, height: 120, title: title)
        canvas.add("text", ["x": "120", "y": "70", "text-anchor": "middle", "fill": "#777777", "font-size": "13"],
                   text: "no data")
        return canvas.finished()
    }
}
