import FileFormats
import Foundation
import Training

/// `trials.csv`: a row per trial — `trial`, each parameter's value (by path), `epochs` trained,
/// the objective after each rung (`valid.loss@1`, `valid.loss@3`…; one column, the last epoch,
/// without asha), `status`, `note` (why a trial failed) and `curve` (the objective after every
/// epoch, space-separated). Rewritten durably after every job starts and ends, so that a killed
/// search leaves it whole, and read back by `search --resume`.
public struct SearchLedger: Sendable {
    public let directory: RunDirectory
    public let fileName: String
    let parameters: [String]
    let rungs: [Int]
    let objective: String

    public init(directory: RunDirectory, fileName: String = "trials.csv", parameters: [String], rungs: [Int], objective: String) {
        (self.directory, self.fileName, self.parameters, self.rungs, self.objective) = (directory, fileName, parameters, rungs, objective)
    }

    public var path: String { directory.path(fileName) }

    var header: [String] {
        ["trial"] + parameters + ["epochs"] + rungs.map { "\(objective)@\($0)" } + ["status", "note", "curve"]
    }

    /// The CSV text of `records`, in trial order.
    public func text(_ records: [TrialRecord]) -> String {
        var csv = CSVWriter(header: header)
        for record in records.sorted(by: { $0.trial < $1.trial }) {
            let rungCells = rungs.indices.map { $0 < record.rungObjectives.count ? "\(record.rungObjectives[$0])" : "" }
            csv.append(["\(record.trial)"] + record.values.map(\.text) + ["\(record.curve.count)"] + rungCells
                       + [record.status.rawValue, record.note, record.curve.map { "\($0)" }.joined(separator: " ")])
        }
        return csv.text
    }

    public func write(_ records: [TrialRecord]) throws(Problem) {
        try directory.write(fileName, Data(text(records).utf8))
    }

    /// What `read` gives back of a row: what the search had reached, and the values written,
    /// which a resumed search checks against its own draws.
    public struct Row: Sendable {
        public var values: [String]
        public var status: TrialRecord.Status
        public var rungObjectives: [Double]
        public var curve: [Double]
        public var note: String
    }

    /// The rows by trial. Throws a `Problem` at the file when it is not a ledger of this search
    /// (other columns: other parameters, rungs or objective).
    public func read() throws(Problem) -> [Int: Row] {
        try rows(try CSVTable.read(path: path))
    }

    /// The rows of a ledger's text (another process's part, under mpirun).
    func rows(_ bytes: [UInt8]) throws(Problem) -> [Int: Row] {
        try rows(try CSVTable.parse(bytes, file: path))
    }

    private func rows(_ table: CSVTable) throws(Problem) -> [Int: Row] {
        guard table.header == header else {
            throw Problem(file: path, message: "has the columns \(table.header.joined(separator: ",")), not those of this search "
                          + "(\(header.joined(separator: ",")))")
        }
        var rows: [Int: Row] = [:]
        for row in 0..<table.rowCount {
            let cells = (0..<header.count).map { table.string(row: row, column: $0) }
            guard let trial = Int(cells[0]), let status = TrialRecord.Status(rawValue: cells[header.count - 3]) else {
                throw Problem(file: path, line: table.line(ofRow: row), message: "is not a row of trials.csv")
            }
            let rungCells = cells[(parameters.count + 2)..<(parameters.count + 2 + rungs.count)]
            rows[trial] = Row(values: Array(cells[1..<(1 + parameters.count)]), status: status,
                              rungObjectives: rungCells.prefix { !$0.isEmpty }.compactMap(Double.init),
                              curve: cells[header.count - 1].split(separator: " ").compactMap { Double($0) },
                              note: cells[header.count - 2])
        }
        return rows
    }
}

extension TrialRecord {
    /// A trial as a ledger's row left it.
    init(trial: Int, values: [TrialValue], row: SearchLedger.Row) {
        self.init(trial: trial, values: values)
        (status, rungObjectives, curve, note) = (row.status, row.rungObjectives, row.curve, row.note)
    }
}
