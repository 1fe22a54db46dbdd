import Evaluation
import FileFormats
import FlowSpec
import Foundation
import Tasks
import Training

/// `interpretation/`: per task, the samples the model does best and worst on, ranked by the
/// task's own masked loss on the rows it counts on with ground-truth preconditions. A CSV per
/// task, and for a flow with an image input a PNG contact sheet of each group with the row,
/// loss, label and prediction under every thumbnail.
public enum Interpretation {
    /// Samples per group.
    public static let count = 8
    static let directory = "interpretation"

    public static func write(_ predictions: SplitPredictions, flow: ResolvedFlow, split: String,
                             run: RunDirectory) throws(Problem) {
        // An earlier eval's samples would mix with this one's.
        try? FileManager.default.removeItem(atPath: run.path(directory))
        let data = predictions.outputs.split
        let image = flow.inputs.first { if case .image = $0.input.kind { true } else { false } }
        for (t, task) in predictions.tasks.enumerated() {
            let path = task.path.description
            let losses = predictions.outputs.losses[t]
            let ranked = (0..<data.rows).filter { losses[$0].isFinite }.sorted { (losses[$0], $0) < (losses[$1], $1) }
            guard !ranked.isEmpty else { continue }
            let groups = [("worst", Array(ranked.suffix(count).reversed())), ("best", Array(ranked.prefix(count)))]
            let decoder = predictions.decoders[t]
            let width = data.targets[t].count / max(data.rows, 1)
            func label(_ r: Int) -> String { decoder.labelText(data.targets[t][(r * width)..<((r + 1) * width)]) }
            func predicted(_ r: Int) -> String { decoder.text(predictions.decoded[t][r].value) }

            var csv = CSVWriter(header: ["group", "rank", "row", "loss", "label", "decoded", "activated"])
            for (group, rows) in groups {
                for (rank, r) in rows.enumerated() {
                    csv.append([group, String(rank + 1), String(data.sourceRows[r]), "\(losses[r])", label(r), predicted(r),
                                predictions.decoded[t][r].activated.map { "\($0)" }.joined(separator: "|")])
                }
            }
            try run.write("\(directory)/\(safeName(path)).csv", Data(csv.text.utf8), createDirectory: true)

            guard let image, case let .image(height, width, channels, _) = image.input.kind,
                  case .bytes(let pixels, let size)? = data.inputs[image.input.name] else { continue }
            for (group, rows) in groups {
                let thumbnails = rows.map { r in
                    ContactSheet.Thumbnail(width: width, height: height, channels: channels,
                                           pixels: Array(pixels[(r * size)..<((r + 1) * size)]),
                                           captions: ["row \(data.sourceRows[r])  loss \(String(format: "%.3g", losses[r]))",
                                                      "label: \(label(r))", "pred: \(predicted(r))"])
                }
                let sheet = ContactSheet(title: "\(path): \(group) \(rows.count) by loss (\(split))",
                                         thumbnails: thumbnails, columns: count)
                let file = run.path("\(directory)/\(safeName(path))-\(group).png")
                do { try sheet.render().write(path: file) } catch {
                    throw Problem(file: file, message: error.description)
                }
            }
        }
    }

    /// A task path as a file name on any file system.
    public static func safeName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar -> Character in
            let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "." || scalar == "-" || scalar == "_"
            return ok ? Character(scalar) : "_"
        })
    }
}
