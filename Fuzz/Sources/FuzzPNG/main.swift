// libFuzzer target: PNG decoding through libpng's simplified API as PNGImage.read does it, to
// gray, RGB or RGBA (chosen by the input's length, so that every seed stays a plain PNG), then
// a bilinear resize of whatever decoded. A `PNGError` is the expected answer to bad input; a
// trap, a crash, a sanitizer report, a timeout or running out of memory is a finding.
import FileFormats
import FuzzSupport

let scratch = ScratchFile()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    let channels = [1, 3, 4][count % 3]
    checkImage(channels: channels) { () throws(Problem) in try PNGImage.read(path: scratch.path, channels: channels) }
    return 0
}
