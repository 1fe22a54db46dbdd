// libFuzzer target: SafetensorsReader.read on hostile bytes (header length, JSON header,
// dtypes, shapes, offsets, data). A `SafetensorsError` is the expected answer to bad input; a
// trap, a crash or a sanitizer report is a finding. So is a file that reads but does not come
// back bit for bit after a round trip through SafetensorsWriter (names and metadata with any
// JSON escapes in them must be written so that they read back the same).
import FileFormats
import FuzzSupport

let input = ScratchFile()
let directory = ScratchDirectory()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    input.write(UnsafeRawBufferPointer(start: start, count: count))
    let file: SafetensorsFile
    do {
        file = try SafetensorsReader.read(path: input.path)
    } catch {
        report(error.description)
        return 0
    }
    for (name, tensor) in file.tensors {
        precondition(tensor.values.count == tensor.shape.reduce(1, *), "tensor '\(name)' has the wrong number of values")
    }
    let tensors = file.tensors.sorted { $0.key < $1.key }
        .map { SafetensorsWriter.Tensor(name: $0.key, shape: $0.value.shape, values: $0.value.values) }
    let path = directory.path + "/round-trip.safetensors"
    let again: SafetensorsFile
    do {
        try SafetensorsWriter.write(tensors, metadata: file.metadata, to: path)
        again = try SafetensorsReader.read(path: path)
    } catch {
        fatalError("a file that reads does not survive a round trip through SafetensorsWriter: \(error)")
    }
    precondition(again.metadata == file.metadata, "the metadata changed in a round trip: \(file.metadata) → \(again.metadata)")
    precondition(Set(again.tensors.keys) == Set(file.tensors.keys),
                 "the tensor names changed in a round trip: \(file.tensors.keys.sorted()) → \(again.tensors.keys.sorted())")
    for (name, tensor) in file.tensors {
        let other = again.tensors[name]!
        precondition(other.shape == tensor.shape && other.values.map(\.bitPattern) == tensor.values.map(\.bitPattern),
                     "tensor '\(name)' changed in a round trip")
    }
    report("\(file.tensors.count) tensors \(file.tensors.mapValues(\.shape)), metadata \(file.metadata)")
    return 0
}
