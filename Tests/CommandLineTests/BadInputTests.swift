import Foundation
import Testing

/// Bad input stops `train` before any training with exit 2 and the problem's location
/// (`file:line:field`), on standard error.
struct BadInputTests {
    static let flow = """
        name: bad
        data: {train: train.csv, valid: valid.csv}
        inputs:
          x: {type: numeric, columns: [f1, f2], missing: error}
        flow:
          open: {type: binary}
          kind: {type: classification, when: open}
          tags: {type: multilabel, labels: [a, b]}
        """
    static let good = "f1,f2,open,kind,tags\n1,2,1,c1,a\n3,4,0,,b\n5,6,1,c2,a|b\n"

    /// (case, train.csv, valid.csv, the first line of standard error after the directory).
    static let cases: [(name: String, train: String, valid: String, error: String)] = [
        ("a ragged row", "f1,f2,open,kind,tags\n1,2,1,c1,a\n3,4,0\n", good,
         "train.csv:3:3: the row has 3 fields, the header 5"),
        ("an unterminated quote", "f1,f2,open,kind,tags\n1,2,1,c1,a\n3,4,0,\"c1,a\n", good,
         "train.csv:3:4: the row has a quoted field that is never closed"),
        ("a word in a numeric input", "f1,f2,open,kind,tags\n1,2,1,c1,a\nabc,4,0,,b\n", good,
         "train.csv:3:1: column 'f1': 'abc' is not a finite number"),
        ("an infinite number", "f1,f2,open,kind,tags\n1,inf,1,c1,a\n", good,
         "train.csv:2:2: column 'f2': 'inf' is not a finite number"),
        ("NaN in a numeric input", "f1,f2,open,kind,tags\n1,2,1,c1,a\nNaN,4,0,,b\n", good,
         "train.csv:3:1: column 'f1': 'NaN' is not a finite number"),
        ("a number float32 cannot hold", "f1,f2,open,kind,tags\n1,1e39,1,c1,a\n", good,
         "train.csv:2:2: column 'f2': '1e39' is beyond float32's range (±3.4e38), in which training computes"),
        ("a number float32 cannot hold in the validation split", good, "f1,f2,open,kind,tags\n-4e38,2,1,c1,a\n",
         "valid.csv:2:1: column 'f1': '-4e38' is beyond float32's range (±3.4e38), in which training computes"),
        ("an empty value where missing: error", "f1,f2,open,kind,tags\n1,,1,c1,a\n", good,
         "train.csv:2:2: column 'f2': is empty, and input 'x' says missing: error"),
        ("a missing column", "f1,f3,open,kind,tags\n1,2,1,c1,a\n", good,
         "train.csv:1: has no column 'f2' (did you mean 'f1'?)"),
        ("an empty file", "", good, "train.csv: the file is empty; a header row is required"),
        ("a header and no rows", "f1,f2,open,kind,tags\n", good, "train.csv: has no rows to train on"),
        ("a class training never saw", good, "f1,f2,open,kind,tags\n1,2,1,c3,a\n", 
         "valid.csv:2:4: column 'kind': class 'c3' is not among the training split's classes (did you mean 'c1'?); "
            + "if it is a class too rare to be in training, list every class under 'classes:' for task 'kind' in the flow"),
        ("a multilabel name not in labels", "f1,f2,open,kind,tags\n1,2,1,c1,a|z\n", good,
         "train.csv:2:5: column 'tags': label 'z' is not among the labels"),
        ("a binary label that is no accepted spelling", "f1,f2,open,kind,tags\n1,2,maybe,c1,a\n", good,
         "train.csv:2:3: column 'open': 'maybe' is not a binary label; write 1/0, true/false or yes/no"),
        ("a semicolon-separated file", "f1;f2;open;kind;tags\n1;2;1;c1;a\n", good,
         "train.csv:1: has no column 'f1'; the header is one field that looks separated by semicolons "
            + "(flowtrain reads comma-separated files: save it with commas)"),
        ("a tab-separated file", "f1\tf2\topen\tkind\ttags\n1\t2\t1\tc1\ta\n", good,
         "train.csv:1: has no column 'f1'; the header is one field that looks separated by tabs "
            + "(flowtrain reads comma-separated files: save it with commas)"),
    ]

    @Test(arguments: cases.indices)
    func badTabularInputExitsTwoWithItsLocation(_ index: Int) throws {
        let (name, train, valid, error) = Self.cases[index]
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        try write(train, "train.csv", in: directory)
        try write(valid, "valid.csv", in: directory)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path,
                              "--run-dir", directory.appendingPathComponent("run").path])
        #expect(result.status == 2, "\(name): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").first.map(String.init) == directory.path + "/" + error, "\(name)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/model.safetensors").path))
    }

    /// `bench --data` reads the same files as `train`, and a problem in them is bad input there
    /// too: exit 2 and the same lines, not a failed run's exit 1.
    @Test func benchDataOnABadFileIsBadInputAsTrainSaysIt() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        try write("f1,f2,open,kind,tags\n1,2,1,c1,a\nabc,4,0,,b\n", "train.csv", in: directory)
        try write(Self.good, "valid.csv", in: directory)
        let flow = directory.appendingPathComponent("flow.yaml").path
        let bench = try run(["bench", flow, "--batch", "2", "--steps", "1", "--repeats", "1", "--threads", "1", "--data"])
        let train = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path, "--threads", "1"])
        #expect(train.status == 2)
        #expect(train.stderr == "\(directory.path)/train.csv:3:1: column 'f1': 'abc' is not a finite number\n")
        #expect(bench.status == 2)
        #expect(bench.stderr == train.stderr)
    }

    /// Several problems in one file: the first ten in file order, then how many there are.
    @Test func manyProblemsShowTheFirstTenAndACount() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        let rows = (0..<14).map { "x\($0),2,\($0 % 2 == 0 ? "maybe" : "1"),c1,a" }
        try write("f1,f2,open,kind,tags\n" + rows.joined(separator: "\n") + "\n", "train.csv", in: directory)
        try write(Self.good, "valid.csv", in: directory)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 11)
        #expect(lines.first == "\(directory.path)/train.csv:2:1: column 'f1': 'x0' is not a finite number")
        #expect(lines[1] == "\(directory.path)/train.csv:2:3: column 'open': 'maybe' is not a binary label; write 1/0, true/false or yes/no")
        #expect(lines[2] == "\(directory.path)/train.csv:3:1: column 'f1': 'x1' is not a finite number")
        #expect(lines.last == "… 21 problems in all; the first 10 are shown")
    }

    /// A class in `when:` that the training split does not have would gate its task off on
    /// every row: it is an error at the class in the flow, once the data has given the classes.
    @Test func aClassInWhenThatTheTrainingSplitLacksIsLocatedInTheFlow() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: kinds
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1]}
            flow:
              kind: {type: classification}
              door: {type: binary, when: kind == cars}
              big:
                when: "kind in [bus, lorry]"
                flow:
                  wheels: {type: regression}
            """, "flow.yaml", in: directory)
        try write("f1,kind,door,big.wheels\n1,car,1,\n2,bus,0,6\n3,car,1,\n", "train.csv", in: directory)
        let flow = directory.appendingPathComponent("flow.yaml").path
        // `check` cannot know the classes: they come from the data.
        #expect(try run(["check", flow]).status == 0)
        let result = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        #expect(result.status == 2)
        #expect(result.stderr == """
            \(flow):7:38: task 'door': 'kind' has no class 'cars'; the training split's classes are bus, car (did you mean 'car'?)
            \(flow):9:26: flow 'big': 'kind' has no class 'lorry'; the training split's classes are bus, car

            """)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path))
    }

    /// Bytes that are not UTF-8 would each decode to U+FFFD and merge distinct categories and
    /// classes: every field read as text is checked, and so is the header.
    @Test func bytesThatAreNotUTF8AreLocated() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: text
            data: {train: train.csv}
            inputs:
              city: {type: category}
            flow:
              kind: {type: classification}
              tags: {type: multilabel}
            """, "flow.yaml", in: directory)
        let latin1 = [UInt8]("city,kind,tags\ncaf".utf8) + [0xE9] + [UInt8](",a,x\ncaf".utf8) + [0xE8]
            + [UInt8](",b,y|x\ntea,caf".utf8) + [0xE9] + [UInt8](",x|caf".utf8) + [0xE9] + [UInt8]("\n".utf8)
        try Data(latin1).write(to: directory.appendingPathComponent("train.csv"))
        let flow = directory.appendingPathComponent("flow.yaml").path
        let result = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        let csv = directory.appendingPathComponent("train.csv").path
        #expect(result.status == 2)
        #expect(result.stderr == """
            \(csv):2:1: column 'city': 'caf\\xE9' is not UTF-8 text; save the file as UTF-8
            \(csv):3:1: column 'city': 'caf\\xE8' is not UTF-8 text; save the file as UTF-8
            \(csv):4:2: column 'kind': 'caf\\xE9' is not UTF-8 text; save the file as UTF-8
            \(csv):4:3: column 'tags': 'x|caf\\xE9' is not UTF-8 text; save the file as UTF-8

            """)

        try Data([UInt8]("ci".utf8) + [0xFF] + [UInt8]("ty,kind,tags\ntea,a,x\n".utf8))
            .write(to: directory.appendingPathComponent("train.csv"))
        let header = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        #expect(header.status == 2)
        #expect(header.stderr == "\(csv):1:1: the column name 'ci\\xFFty' is not UTF-8 text; save the file as UTF-8\n")
    }

    @Test func aMissingDataFileExitsTwoWithItsPath() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow.replacingOccurrences(of: "train: train.csv", with: "train: /no/such/train.csv"), "flow.yaml",
                  in: directory)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path])
        #expect(result.status == 2)
        #expect(result.stderr == "/no/such/train.csv: no such file\n")
    }

    @Test func aRunDirectoryThatCannotBeWrittenExitsTwo() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(Self.flow, "flow.yaml", in: directory)
        try write(Self.good, "train.csv", in: directory)
        try write(Self.good, "valid.csv", in: directory)
        // A regular file where a directory should be: no user, root included, can make the run there.
        try write("", "file", in: directory)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path,
                              "--run-dir", directory.appendingPathComponent("file/run").path])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("\(directory.path)/file/run: cannot be created: "), "\(result.stderr)")
    }

    /// Images: missing, truncated, not a PNG, or of another size than the input declares.
    @Test func badImagesExitTwoNamingTheRowAndTheFile() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let scenes = directory.appendingPathComponent("scenes")
        #expect(try run(["datasets", "security", "--out", scenes.path, "--n", "10"]).status == 0)
        let train = try String(contentsOf: scenes.appendingPathComponent("train.csv"), encoding: .utf8)
        var lines = train.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let imageField = try #require(header.firstIndex(of: "image"))
        func image(_ line: Int) -> String { lines[line].split(separator: ",", omittingEmptySubsequences: false).map(String.init)[imageField] }
        func replaceImage(_ line: Int, with name: String) {
            var fields = lines[line].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[imageField] = name
            lines[line] = fields.joined(separator: ",")
        }
        let firstImage = image(1)
        let png = try Data(contentsOf: scenes.appendingPathComponent(firstImage))
        try png.prefix(png.count / 2).write(to: scenes.appendingPathComponent("truncated.png"))
        try Data("not a picture".utf8).write(to: scenes.appendingPathComponent("text.png"))
        replaceImage(1, with: "missing.png")
        replaceImage(2, with: "truncated.png")
        replaceImage(3, with: "text.png")
        try (lines.joined(separator: "\n") + "\n").write(to: scenes.appendingPathComponent("train.csv"), atomically: true,
                                                         encoding: .utf8)
        let flow = try securityFlow(pointingAt: scenes, in: directory)
        let result = try run(["train", flow, "--run-dir", directory.appendingPathComponent("run").path])
        #expect(result.status == 2)
        let errors = result.stderr.split(separator: "\n").map(String.init)
        let csv = scenes.appendingPathComponent("train.csv").path
        let field = imageField + 1
        #expect(errors.count >= 3)
        #expect(errors[0].hasPrefix("\(csv):2:\(field): column 'image': \(scenes.path)/missing.png: "), "\(errors)")
        #expect(errors[1].hasPrefix("\(csv):3:\(field): column 'image': \(scenes.path)/truncated.png: "), "\(errors)")
        #expect(errors[2].hasPrefix("\(csv):4:\(field): column 'image': \(scenes.path)/text.png: "), "\(errors)")

        // Another size than the flow declares, without resize: true.
        let resized = try String(contentsOfFile: flow, encoding: .utf8)
            .replacingOccurrences(of: "shape: [64, 64, 3]", with: "shape: [32, 32, 3]")
        try write(resized, "small.yaml", in: directory)
        try train.write(to: scenes.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let small = try run(["train", directory.appendingPathComponent("small.yaml").path])
        #expect(small.status == 2)
        #expect(small.stderr.hasPrefix("\(csv):2:\(field): column 'image': image \(firstImage) is 64×64, input 'image' expects 32×32 (or add resize: true)"),
                "\(small.stderr)")
    }

    /// flows/security.yaml with its data paths pointing at `scenes`.
    private func securityFlow(pointingAt scenes: URL, in directory: URL) throws -> String {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("flows/security.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "../datasets/security/", with: scenes.path + "/")
        let path = directory.appendingPathComponent("security.yaml")
        try text.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }
}

func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, _ name: String, in directory: URL) throws {
    try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
}

/// A run whose loss becomes NaN or infinite stops with exit 1, naming the task, epoch and batch.
struct DivergenceTests {
    @Test func aNonFiniteLossStopsTheRunNamingTheTask() throws {
        let directory = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write("""
            name: diverging
            data: {train: train.csv}
            inputs:
              x: {type: numeric, columns: [f1], normalize: none}
            flow:
              size: {type: regression, loss: mse}
            """, "flow.yaml", in: directory)
        // The prediction on 1e30 is about 1e30; its square overflows a float to infinity.
        try write("f1,size\n1,2\n1e30,3\n-1e30,4\n2,5\n", "train.csv", in: directory)
        let result = try run(["train", directory.appendingPathComponent("flow.yaml").path, "--run-dir",
                              directory.appendingPathComponent("run").path])
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("/run: training diverged at epoch 1, batch 1: the loss of task 'size' is inf\n"),
                "\(result.stderr)")
    }
}
