import Foundation

/// An image file of either format image inputs read, told apart by its first byte rather than
/// its name: a PNG starts 0x89 ("\x89PNG…"), a JPEG 0xFF (start of image, 0xFF 0xD8). So a PNG
/// named `.jpg` (or a JPEG named `.png`) reads as what it is; the format's own reader then
/// checks the whole signature.
public enum ImageFile {
    /// The formats, also as written by `flowtrain datasets security --format`.
    public enum Format: String, CaseIterable, Sendable {
        case png, jpeg

        /// The file name extension written for the format.
        public var fileExtension: String {
            switch self {
            case .png: "png"
            case .jpeg: "jpg"
            }
        }
    }

    /// The image at `path` as gray (1), RGB (3) or RGBA (4): `PNGImage.read` or `JPEGImage.read`.
    public static func read(path: String, channels: Int) throws(Problem) -> PNGImage {
        switch try format(of: path) {
        case .png: try PNGImage.read(path: path, channels: channels)
        case .jpeg: try JPEGImage.read(path: path, channels: channels)
        }
    }

    /// The size and channels of the image at `path` from its header: `PNGImage.shape` or
    /// `JPEGImage.shape` (upright, as read).
    public static func shape(path: String) throws(Problem) -> (height: Int, width: Int, channels: Int) {
        switch try format(of: path) {
        case .png: try PNGImage.shape(path: path)
        case .jpeg: try JPEGImage.shape(path: path)
        }
    }

    /// The format the first byte of the file at `path` announces.
    public static func format(of path: String) throws(Problem) -> Format {
        if let problem = RegularFile.problem(at: path) {
            throw PNGImage.fileProblem(path, problem)
        }
        guard let file = fopen(path, "rb") else {
            throw PNGImage.fileProblem(path, "cannot be opened: \(PNGImage.systemMessage(errno))")
        }
        defer { fclose(file) }
        switch getc(file) {
        case 0x89: return .png
        case 0xFF: return .jpeg
        case EOF where ferror(file) != 0:
            throw PNGImage.fileProblem(path, "cannot be read: \(PNGImage.systemMessage(errno))")
        case EOF: throw PNGImage.fileProblem(path, "is empty, not an image file")
        default:
            var problem = PNGImage.fileProblem(path, "is neither a PNG nor a JPEG file")
            problem.hint = "image inputs read PNG and JPEG files, whatever their names end with"
            throw problem
        }
    }
}
