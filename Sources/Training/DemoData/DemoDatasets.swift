import FileFormats
import Foundation

/// The demo data sets `flowtrain datasets` writes.
public enum DemoDatasets {
    public static let names = ["security", "orders", "tickets"]

    /// The quality of the security scenes written as JPEG (4:4:4: at 64×64 pixels, 4:2:0's halved
    /// colour blurs the faces' glasses and hats enough to cost facial_characteristics accuracy;
    /// docs/training.md).
    public static let jpegQuality = 95

    /// Writes `count` security scenes under `directory`: `images/NNNNN.png` (or `.jpg`, quality
    /// `jpegQuality`) and `train.csv`, `valid.csv`, `test.csv` (80%, 10%, 10%), image paths
    /// relative to the CSVs. The scenes and labels are the same in either format.
    public static func writeSecurity(to directory: URL, count: Int, seed: UInt64,
                                     format: ImageFile.Format = .png) throws {
        let images = directory.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var scenes = SecurityScenes(seed: seed)
        var writers = ["train", "valid", "test"].map { _ in CSVWriter(header: ["image"] + SecurityScenes.labelColumns) }
        for index in 0..<count {
            let scene = scenes.next()
            let name = String(format: "images/%05d.", index) + format.fileExtension
            let image = PNGImage(width: SecurityScenes.size, height: SecurityScenes.size, channels: 3, pixels: scene.pixels)
            let path = directory.appendingPathComponent(name).path
            switch format {
            case .png: try image.write(path: path)
            case .jpeg: try JPEGImage.write(image, path: path, quality: jpegQuality)
            }
            let split = index % 10 == 8 ? 1 : index % 10 == 9 ? 2 : 0
            writers[split].append([name] + SecurityScenes.labelColumns.map { scene.labels[$0] ?? "" })
        }
        for (writer, name) in zip(writers, ["train", "valid", "test"]) {
            try writer.write(to: directory.appendingPathComponent("\(name).csv").path)
        }
    }

    /// Writes `count` orders to `train.csv`, `valid.csv` and `test.csv` under `directory` (80%,
    /// 10%, 10%, as the security scenes).
    public static func writeOrders(to directory: URL, count: Int, seed: UInt64) throws {
        var table = OrdersTable(seed: seed)
        try writeSplits(to: directory, header: OrdersTable.columns, count: count) { table.next() }
    }

    /// Writes `count` support tickets to `train.csv`, `valid.csv` and `test.csv` under
    /// `directory` (80%, 10%, 10%, as the others).
    public static func writeTickets(to directory: URL, count: Int, seed: UInt64) throws {
        var tickets = SupportTickets(seed: seed)
        try writeSplits(to: directory, header: SupportTickets.columns, count: count) { tickets.next() }
    }

    /// `count` rows from `next` into `train.csv`, `valid.csv` and `test.csv` under `directory`:
    /// of every ten rows, the ninth to valid, the tenth to test.
    private static func writeSplits(to directory: URL, header: [String], count: Int,
                                    next: () -> [String]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writers = ["train", "valid", "test"].map { _ in CSVWriter(header: header) }
        for index in 0..<count {
            writers[index % 10 == 8 ? 1 : index % 10 == 9 ? 2 : 0].append(next())
        }
        for (writer, name) in zip(writers, ["train", "valid", "test"]) {
            try writer.write(to: directory.appendingPathComponent("\(name).csv").path)
        }
    }
}
