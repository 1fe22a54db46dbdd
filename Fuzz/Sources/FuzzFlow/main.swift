// libFuzzer target: a flow file through the whole loader (YAML, decoding, validation, `when:`
// expressions, shape inference, resolution). Diagnostics are the expected answer to bad input;
// a trap, a crash or a sanitizer report is a finding. So is a flow that loads but whose
// FlowWriter text (what `train` saves as a run's flow.yaml) does not load again.
import FlowSpec
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let flow: ResolvedFlow
    do {
        flow = try FlowLoader.load(bytes: bytes, file: "/fuzz/flow.yaml")
    } catch {
        // Every diagnostic must render without trapping.
        let text = error.description
        report("diagnostics:\n\(text)")
        return 0
    }
    let written = FlowWriter.yaml(flow.flow) { $0 }
    do {
        let again = try FlowLoader.load(bytes: Array(written.utf8), file: "/fuzz/flow.yaml")
        guard again.tasks.count == flow.tasks.count, again.inputs.count == flow.inputs.count,
              again.branches.count == flow.branches.count else {
            fatalError("the written flow reloads with other tasks, inputs or branches:\n\(written)")
        }
    } catch {
        fatalError("the written flow does not load again:\n\(error)\n--- written:\n\(written)")
    }
    report("loaded '\(flow.flow.name)': \(flow.inputs.count) inputs, \(flow.branches.count) branches, \(flow.tasks.count) tasks")
    return 0
}
