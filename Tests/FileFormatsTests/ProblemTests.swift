import Testing
import FileFormats

/// The one rendering of a problem, in each shape a location takes.
struct ProblemTests {
    @Test func rendersEachShapeOfLocation() {
        #expect(Problem(file: "w.safetensors", message: "the file is empty").description == "w.safetensors: the file is empty")
        #expect(Problem(file: "t.csv", line: 3, message: "the row has 3 fields, the header 2").description
                == "t.csv:3: the row has 3 fields, the header 2")
        #expect(Problem(file: "f.yaml", line: 4, column: 7, message: "unknown key 'layer'").description
                == "f.yaml:4:7: unknown key 'layer'")
        #expect(Problem(file: "t.csv", line: 12, column: 3, columnName: "age", message: "'abc' is not a finite number")
                    .description == "t.csv:12:3: column 'age': 'abc' is not a finite number")
        #expect(Problem(message: "cannot open flow file 'x.yaml': No such file or directory").description
                == "cannot open flow file 'x.yaml': No such file or directory")
    }

    /// A column (or field) is a position within a line: without the line it is not shown.
    @Test func showsAColumnOnlyAfterALine() {
        #expect(Problem(file: "t.csv", column: 2, columnName: "b", message: "is empty").description == "t.csv: column 'b': is empty")
    }

    @Test func addsTheHintInParentheses() {
        #expect(Problem(file: "f.yaml", line: 4, column: 7, message: "unknown key 'layer'", hint: "did you mean 'layers'?")
                    .description == "f.yaml:4:7: unknown key 'layer' (did you mean 'layers'?)")
        #expect(Problem(message: "no data", hint: "give data:").description == "no data (give data:)")
    }

    @Test func showsFurtherProblemsALineEachAndCountsTheRest() {
        var problem = Problem(file: "t.csv", line: 2, column: 1, columnName: "a", message: "is empty")
        problem.further = [Problem(file: "t.csv", line: 5, column: 2, columnName: "b", message: "'x' is not a number"),
                           Problem(file: "u.csv", message: "has no rows", hint: "add some")]
        #expect(problem.description == """
            t.csv:2:1: column 'a': is empty
            t.csv:5:2: column 'b': 'x' is not a number
            u.csv: has no rows (add some)
            """)
        problem.unreported = 7
        #expect(problem.description.split(separator: "\n").last == "… 10 problems in all; the first 3 are shown")
    }
}
