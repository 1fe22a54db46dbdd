import Foundation
import Testing
@testable import FileFormats

struct CSVTableTests {
    func table(_ text: String) throws(Problem) -> CSVTable {
        try CSVTable.parse(Array(text.utf8), file: "t.csv")
    }

    func rows(_ table: CSVTable) -> [[String]] {
        (0..<table.rowCount).map { r in (0..<table.header.count).map { table.string(row: r, column: $0) } }
    }

    @Test func quotedFieldsEmbeddedCommasNewlinesAndQuotes() throws {
        let t = try table("a,b,c\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n")
        #expect(t.header == ["a", "b", "c"])
        #expect(rows(t) == [["1", "x, y", "say \"hi\""], ["2", "two\nlines", ""]])
        #expect(t.line(ofRow: 0) == 2 && t.line(ofRow: 1) == 3)
    }

    @Test func byteOrderMarkCRLFBlankLinesAndNoFinalNewline() throws {
        let t = try table("\u{FEFF}a,b\r\n1,2\r\n\r\n\"3\",\"4\"")
        #expect(t.header == ["a", "b"])
        #expect(rows(t) == [["1", "2"], ["3", "4"]])
        #expect(t.line(ofRow: 1) == 4)
    }

    @Test func everyFieldQuotedAndCarriageReturnInsideAField() throws {
        let t = try table("\"a\",\"b\"\n\"1\r2\",\"\"\n")
        #expect(rows(t) == [["1\r2", ""]])
    }

    @Test func aColumnNamedTwiceIsRefused() {
        do {
            _ = try table("a,b,a\n1,2,3\n")
            Issue.record("a duplicate column was accepted")
        } catch {
            #expect(error.description == "t.csv:1:3: column 'a' appears twice in the header (fields 1 and 3)")
        }
    }

    @Test func raggedRowIsLocated() {
        #expect(throws: Problem.self) { try table("a,b\n1,2\n3\n") }
        do {
            _ = try table("a,b\n1,2\n\n3,4,5\n")
        } catch {
            #expect(error.description == "t.csv:4:3: the row has 3 fields, the header 2")
        }
    }

    @Test func unterminatedQuoteIsLocated() {
        do {
            _ = try table("a,b\n1,\"open\n2,3\n")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "t.csv:2:2: the row has a quoted field that is never closed")
        }
    }

    @Test func textAfterAClosingQuoteIsRefused() {
        do {
            _ = try table("a\n\"x\"y\n")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "t.csv:2:1: the row has text after a closing quote; a quote inside a quoted field is written twice")
        }
    }

    @Test func emptyFileAndMissingFile() {
        do { _ = try table("") } catch { #expect(error.description == "t.csv: the file is empty; a header row is required") }
        do { _ = try CSVTable.read(path: "/no/such.csv") } catch { #expect(error.description == "/no/such.csv: no such file") }
    }

    @Test func numbersParseFromBytesCorrectlyRounded() throws {
        let texts = ["0", "-1", "+2.5", "3.", ".5", "1e3", "1E-3", "-0.000123", " 42 ", "123456789012345678901234",
                     "1.7976931348623157e308", "4.9e-324", "0.1", "2.675", "1e400", "", "abc", "1.2.3", "NaN", "inf",
                     "1e", "-", "0x10"]
        let t = try table("v\n" + texts.map { "\"\($0)\"" }.joined(separator: "\n") + "\n")
        for (row, text) in texts.enumerated() {
            let expected = Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
            let accepted = !["NaN", "inf", "0x10"].contains(text)
            #expect(t.number(row: row, column: 0) == (accepted ? expected : nil), "'\(text)'")
        }
        var random = SystemRandomNumberGenerator()
        var lines = ["v"]
        var values: [Double] = []
        for _ in 0..<2000 {
            let value = Double(Float.random(in: -1e6...1e6, using: &random)) / Double([1, 10, 1000, 1e7].randomElement()!)
            values.append(Double(String(value))!)
            lines.append(String(value))
        }
        let many = try table(lines.joined(separator: "\n"))
        for (row, value) in values.enumerated() { #expect(many.number(row: row, column: 0) == value) }
    }

    /// Fields read as bytes: a quoted field without its quotes, doubled quotes undone.
    @Test func fieldsReadAsBytes() throws {
        let t = try table("a,b\nNA,\"x,y\"\n\"N\"\"A\",\n")
        func bytes(_ row: Int, _ column: Int) -> [UInt8] { t.withBytes(row: row, column: column) { Array($0) } }
        #expect(bytes(0, 0) == Array("NA".utf8) && bytes(0, 1) == Array("x,y".utf8))
        #expect(bytes(1, 0) == Array("N\"A".utf8) && bytes(1, 1) == [])
    }

    /// A file split in pieces on several cores reads exactly as in one pass: quoted line ends
    /// that cross a piece's border, CRLF, blank lines and a last line without a line end.
    @Test func piecesReadAsOnePass() throws {
        var random = SystemRandomNumberGenerator()
        let cells = ["1", "", "x y", "\"a,b\"", "\"two\nlines\"", "\"say \"\"hi\"\"\"", "\"\"", "4.5", "\"\r\n\""]
        var text = "a,b,c\n"
        for row in 0..<300 {
            text += (0..<3).map { _ in cells.randomElement(using: &random)! }.joined(separator: ",")
            text += row % 17 == 0 ? "\r\n" : row % 23 == 0 ? "\n\n" : "\n"
        }
        text += "7,8,9"
        let bytes = Array(text.utf8)
        let whole = try CSVTable.parse(bytes, file: "t.csv", pieces: 1)
        #expect(whole.rowCount == 301)
        for pieces in 2...9 {
            let split = try CSVTable.parse(bytes, file: "t.csv", pieces: pieces)
            #expect(rows(split) == rows(whole), "\(pieces) pieces")
            #expect((0..<301).map(split.line(ofRow:)) == (0..<301).map(whole.line(ofRow:)), "\(pieces) pieces")
        }
    }

    /// A problem found in any piece is reported at its line in the file, as one pass finds it.
    @Test func aProblemInALaterPieceIsLocated() {
        let text = "a,b\n" + String(repeating: "1,\"q\nq\"\n", count: 50) + "1,2,3\n" + String(repeating: "1,2\n", count: 50)
        for pieces in [1, 2, 4] {
            do {
                _ = try CSVTable.parse(Array(text.utf8), file: "t.csv", pieces: pieces)
                Issue.record("accepted with \(pieces) pieces")
            } catch {
                #expect(error.description == "t.csv:102:3: the row has 3 fields, the header 2")
            }
        }
    }

    @Test func blankFieldsAndWhiteSpace() throws {
        let t = try table("a,b,c,d\n, ,\" \t\",x\n")
        #expect(t.isBlank(row: 0, column: 0) && t.isBlank(row: 0, column: 1) && t.isBlank(row: 0, column: 2))
        #expect(!t.isBlank(row: 0, column: 3))
    }
}
