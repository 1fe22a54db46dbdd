// libFuzzer target: JPEG decoding through TurboJPEG as JPEGImage.read does it (header, Exif
// orientation, pixels) to gray, RGB or RGBA (chosen by the input's length), then a bilinear
// resize of whatever decoded. A `Problem` is the expected answer to bad input; a trap, a crash,
// a sanitizer report, a timeout or running out of memory is a finding.
import FileFormats
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let channels = [1, 3, 4][count % 3]
    checkImage(channels: channels) { () throws(Problem) in try JPEGImage.decode(bytes, path: "input.jpg", channels: channels) }
    return 0
}
