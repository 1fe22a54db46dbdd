import FileFormats
import ProcessGroups

/// This process's share of a data file that the processes of a training read together
/// (`mpirun`), each only its own bytes (`CSVShare`): its records, and where they are among the
/// file's, which every process learns from the others' counts. Every process calls `read` for
/// the same file at the same point; a problem any of them meets ends the read on all of them
/// with the one a single process reading the whole file would have reported.
struct DataFileShare {
    let table: CSVTable
    /// The index in the file of the share's first row, and the file's rows over every share.
    let firstRow: Int
    let totalRows: Int

    /// The whole file, read by one process.
    init(whole table: CSVTable) {
        (self.table, firstRow, totalRows) = (table, 0, table.rowCount)
    }

    /// Reads this process's share of `path`: the quotes and line ends of every share's stretch
    /// are exchanged first (where each share starts and the line it starts on follow from those
    /// before it), then the rows each share holds.
    static func read(_ path: String, across processes: any ProcessGroup) throws(Problem) -> DataFileShare {
        let share = try ProcessAgreement.first(processes) { () throws(Problem) in
            try CSVShare(path: path, part: processes.rank, of: processes.size)
        }
        // Every host must hold the same file: shares of different files would mix their rows.
        let sizes = processes.allgather(share.size)
        if let other = sizes.firstIndex(where: { $0 != sizes[0] }) {
            throw Problem(file: path, message: "is \(sizes[0]) bytes for process 0 and \(sizes[other]) for process \(other)",
                          hint: "every process reads the same data files: give each host the same copy")
        }
        let counts = processes.allgatherByRank([share.quotes, share.newlines])
        let before = counts[..<processes.rank]
        let table = try ProcessAgreement.first(processes) { () throws(Problem) in
            try share.table(quotesBefore: before.reduce(0) { $0 + $1[0] }, newlinesBefore: before.reduce(0) { $0 + $1[1] })
        }
        let rows = processes.allgather(table.rowCount)
        return DataFileShare(table: table, firstRow: rows[..<processes.rank].reduce(0, +), totalRows: rows.reduce(0, +))
    }

    private init(table: CSVTable, firstRow: Int, totalRows: Int) {
        (self.table, self.firstRow, self.totalRows) = (table, firstRow, totalRows)
    }
}
