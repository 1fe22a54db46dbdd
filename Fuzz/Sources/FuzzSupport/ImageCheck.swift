import FileFormats

/// What the image targets (FuzzPNG, FuzzJPEG) do with an input: `read` it as `channels`
/// channels, check the buffer has the size the image claims, resize it, and report either.
public func checkImage(channels: Int, _ read: () throws(Problem) -> PNGImage) {
    do {
        let image = try read()
        precondition(image.channels == channels && image.pixels.count == image.width * image.height * channels)
        _ = image.resized(width: 3, height: 2)
        report("\(image.width)×\(image.height), read as \(channels) channels")
    } catch {
        report(error.description)
    }
}
