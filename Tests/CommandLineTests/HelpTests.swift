import Testing

/// Golden lines of `--help`: each option's default is stated once, in words where it depends
/// on the machine.
struct HelpTests {
    @Test(arguments: ["train", "search", "eval", "tune-thresholds", "calibrate", "explain", "predict", "bench"])
    func threadsStateTheirDefaultOnce(_ command: String) throws {
        let result = try run([command, "--help"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.contains("--threads <threads> ") } == ["  --threads <threads>     Threads (default: the machine's cores)."],
                "\(result.stdout)")
    }

    @Test func benchStatesItsBatchSizes() throws {
        let lines = try run(["bench", "--help"]).stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  --batch <batch>         Comma-separated batch sizes (default: 32,256,1024)."))
    }
}
