import Foundation
import Testing
@testable import FileFormats

/// A CSV file read in shares, as processes under mpirun read it (the counts they exchange are
/// summed here): the shares together hold the whole file's rows once, in order, on their
/// lines, wherever the stretches cut it, quoted line ends included.
struct CSVShareTests {
    /// Every share of `path` in `parts` shares, each given the counts of those before it.
    func shares(_ path: String, _ parts: Int) throws(Problem) -> [CSVTable] {
        let opened = try (0..<parts).map { part throws(Problem) in try CSVShare(path: path, part: part, of: parts) }
        return try opened.indices.map { part throws(Problem) in
            let before = opened[..<part]
            return try opened[part].table(quotesBefore: before.reduce(0) { $0 + $1.quotes },
                                          newlinesBefore: before.reduce(0) { $0 + $1.newlines })
        }
    }

    func rows(_ table: CSVTable) -> [[String]] {
        (0..<table.rowCount).map { r in [String(table.line(ofRow: r))] + (0..<table.header.count).map { table.string(row: r, column: $0) } }
    }

    /// `text` in a file of its own.
    func write(_ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-share-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("data.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func sharesHoldEveryRowOnceWithItsLineWhateverTheCuts() throws {
        // Quoted fields with line ends (one spanning several lines), doubled quotes, blank
        // lines, CRLF, a byte-order mark, a header with a quoted name, no final line end.
        var text = "\u{FEFF}id,\"note, long\",n\r\n"
        for i in 0..<60 {
            switch i % 6 {
            case 0: text += "\(i),\"two\nlines\",\(i * 3)\n"
            case 1: text += "\(i),\"say \"\"hi\"\"\n\nand go\",1\r\n"
            case 2: text += "\n\(i),plain,2\n"
            case 3: text += "\(i),\"\",\"\n\"\n"
            default: text += "\(i),\"a,\nb\nc\",\(i)\n"
            }
        }
        text += "60,last,0"
        let path = try write(text)
        let whole = try CSVTable.read(path: path)
        #expect(whole.rowCount == 61)
        for parts in [1, 2, 3, 4, 5, 7, 16, 64, 200] {
            let tables = try shares(path, parts)
            #expect(tables.allSatisfy { $0.header == whole.header })
            #expect(tables.flatMap(rows) == rows(whole), "\(parts) shares")
        }
    }

    @Test func aShareCanBeEmpty() throws {
        let path = try write("a,b\n\"one long quoted field\nacross lines\nand more lines\",1\n2,3\n")
        let tables = try shares(path, 9)
        #expect(tables.contains { $0.rowCount == 0 })
        #expect(tables.flatMap(rows) == rows(try CSVTable.read(path: path)))
    }

    /// A problem in a later share is located as reading the whole file locates it.
    @Test func aProblemInALaterShareHasItsLineInTheFile() throws {
        var text = "a,b\n"
        for i in 0..<40 { text += "\(i),\"x\ny\"\n" }
        text += "40,1,extra\n41,2\n"
        let path = try write(text)
        let whole = #expect(throws: Problem.self) { try CSVTable.read(path: path) }
        for parts in [2, 3, 5] {
            let failures = try (0..<parts).compactMap { part -> Problem? in
                let opened = try (0..<parts).map { try CSVShare(path: path, part: $0, of: parts) }
                let before = opened[..<part]
                do throws(Problem) {
                    _ = try opened[part].table(quotesBefore: before.reduce(0) { $0 + $1.quotes },
                                               newlinesBefore: before.reduce(0) { $0 + $1.newlines })
                    return nil
                } catch { return error }
            }
            #expect(failures.map(\.description) == [whole?.description], "\(parts) shares")
            #expect(whole?.location?.line == 82)
        }
    }

    /// A quote inside an unquoted field throws the count off; where a quoted line end then
    /// falls where a share starts, the share before says so, at that field.
    @Test func aStrayQuoteBeforeAQuotedLineEndAtACutIsRefused() throws {
        var text = "a,b\n1,12\" pipe\n"
        for i in 0..<30 { text += "\(i),\"x\ny\"\n" }
        let path = try write(text)
        #expect(try CSVTable.read(path: path).rowCount == 31)
        var refused: [Problem] = []
        for parts in 2...12 {
            do { _ = try shares(path, parts) } catch { refused.append(error) }
        }
        let first = try #require(refused.first)
        #expect(first.message.contains("a quote inside an unquoted field before here"), "\(first)")
        #expect(first.location?.file == path && (first.location?.line ?? 0) > 2)
    }

    @Test func theHeaderMayBeLongerThanWhatIsReadFirst() throws {
        let names = (0..<20_000).map { "column_\($0)" }
        let path = try write(names.joined(separator: ",") + "\n" + names.indices.map(String.init).joined(separator: ",") + "\n")
        let tables = try shares(path, 3)
        #expect(tables.allSatisfy { $0.header == names })
        #expect(tables.map(\.rowCount).reduce(0, +) == 1)
    }

    @Test func aMissingFileOrAnEmptyOneIsSaidAsWhenReadWhole() throws {
        let empty = try write("")
        #expect(throws: Problem(file: empty, message: "the file is empty; a header row is required")) {
            try CSVShare(path: empty, part: 1, of: 2)
        }
        #expect(throws: Problem(file: "/nonexistent/x.csv", message: "no such file")) {
            try CSVShare(path: "/nonexistent/x.csv", part: 0, of: 2)
        }
    }
}
