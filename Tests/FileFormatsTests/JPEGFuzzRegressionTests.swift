import Foundation
import Testing
import FileFormats

/// The odd JPEGs of Fuzz/Regressions/FuzzJPEG (seeds written by Fuzz/make_seeds.py, and any
/// input `make fuzz` finds crashing the JPEG reader) decode, as the fuzz target decodes them, to
/// an image or a problem naming the file, at every channel count.
struct JPEGFuzzRegressionTests {
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fuzz/Regressions/FuzzJPEG")
    }()

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()

    @Test func thereAreRegressionInputs() {
        #expect(!Self.files.isEmpty)
    }

    @Test(arguments: files)
    func decodesOrFailsWithALocatedProblem(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
        for channels in [1, 3, 4] {
            do {
                let image = try JPEGImage.decode(bytes, path: name, channels: channels)
                #expect(image.pixels.count == image.width * image.height * channels)
            } catch {
                #expect(error.location?.file == name)
            }
        }
    }
}
