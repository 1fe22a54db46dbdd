import Foundation
import Testing

/// A small tabular flow for tests that need a run in a second: a numeric input with
/// `piecewise_linear` bins (bin edges in state.json), a category input, and a binary, a
/// classification (under a precondition) and a regression task, on 48 training rows.
enum TabularRunFixture {
    /// Writes `flow.yaml`, `train.csv`, `valid.csv` and `test.csv` into `directory`; `train`
    /// is appended to the flow's `train:` mapping; `layers` are the trunk's.
    static func write(in directory: URL, train: String = "epochs: 2", layers: String = "[dense: 8, relu]") throws -> URL {
        try """
            name: tabular
            data: {train: train.csv, valid: valid.csv, test: test.csv}
            inputs:
              x: {type: numeric, columns: [a, b], encoding: piecewise_linear, bins: 4}
              kind: {type: category, column: kind, embedding: 2}
            trunk:
              t: {from: [x, kind], layers: \(layers)}
            flow:
              open: {type: binary}
              colour: {type: classification, when: open}
              size: {type: regression}
            train: {batch_size: 8, seed: 1, \(train)}
            """.write(to: directory.appendingPathComponent("flow.yaml"), atomically: true, encoding: .utf8)
        for (name, rows, offset) in [("train.csv", 48, 0), ("valid.csv", 16, 100), ("test.csv", 16, 200)] {
            try csv(rows: rows, offset: offset).write(to: directory.appendingPathComponent(name), atomically: true,
                                                      encoding: .utf8)
        }
        return directory.appendingPathComponent("flow.yaml")
    }

    /// `rows` rows from row number `offset` on, every value a function of the row number.
    static func csv(rows: Int, offset: Int) -> String {
        var text = "a,b,kind,open,colour,size\n"
        for i in offset..<(offset + rows) {
            let a = Double(i % 7) * 1.5, b = Double(i * 5 % 11) - 3
            let open = a + b > 3
            text += "\(a),\(b),\(["red", "green", "blue"][i % 3]),\(open ? 1 : 0),\(open ? ["c1", "c2"][i % 2] : ""),"
                + "\(2 * a + b)\n"
        }
        return text
    }
}
