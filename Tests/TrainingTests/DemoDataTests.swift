import Foundation
import Testing
@testable import Training

/// The demo data follows the flows' preconditions: a label is present only where its task is
/// defined, so that training on it teaches the semantics the flows declare.
struct DemoDataTests {
    @Test func securityLabelsFollowThePreconditions() {
        var scenes = SecurityScenes(seed: 3, missingRate: 0)
        var seen: Set<String> = []
        for _ in 0..<2000 {
            let scene = scenes.next()
            let l = scene.labels
            #expect(scene.pixels.count == 64 * 64 * 3)
            let blocked = l["camera_blocked"] == "1", open = l["door_open"] == "1"
            #expect((l["door_open"] != nil) == !blocked)
            #expect((l["door_locked"] != nil) == (!blocked && !open))
            #expect((l["person_present"] != nil) == (!blocked && open))
            let person = l["person_present"] == "1"
            for column in SecurityScenes.labelColumns.dropFirst(4) {
                #expect((l[column] != nil) == person, "\(column)")
            }
            if person {
                let x = Int(l["person_regression.face_regression.face_x1"]!)!, w = Int(l["person_regression.face_regression.face_w"]!)!
                #expect(x >= 0 && x + w <= 64)
                #expect(SecurityScenes.shirtColours.contains(l["person_regression.body_regression.shirt_type"]!))
                seen.insert(l["person_regression.face_regression.facial_characteristics"]!)
            }
        }
        #expect(seen.contains("none") && seen.contains("hat|glasses|beard"))
    }

    @Test func sameSeedSameScenes() {
        var a = SecurityScenes(seed: 9), b = SecurityScenes(seed: 9)
        for _ in 0..<50 {
            let x = a.next(), y = b.next()
            #expect(x.pixels == y.pixels && x.labels == y.labels)
        }
    }

    @Test func someLabelsAreMissingAtRandom() {
        var scenes = SecurityScenes(seed: 4, missingRate: 0.03)
        let present = (0..<3000).map { _ in scenes.next().labels["camera_blocked"] != nil }
        let missing = present.filter { !$0 }.count
        #expect(missing > 40 && missing < 150)  // 3% of 3000 is 90
    }

    @Test func ordersFollowTheirPreconditions() {
        var table = OrdersTable(seed: 2)
        let column = { (name: String) in OrdersTable.columns.firstIndex(of: name)! }
        for _ in 0..<3000 {
            let row = table.next()
            #expect(row.count == OrdersTable.columns.count)
            let cancelled = row[column("cancelled")] == "1"
            #expect(row[column("cancel_reason")].isEmpty == !cancelled)
            #expect(row[column("delivery.shipped_late")].isEmpty == cancelled)
            let late = row[column("delivery.shipped_late")] == "1"
            #expect(row[column("delivery.delay_days")].isEmpty == !late)
            let reported = row[column("delivery.problems_reported")] == "1"
            #expect(row[column("delivery.rating")].isEmpty == (cancelled || reported))
        }
    }

    @Test func datasetFilesAreWrittenAndReadBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowtrain-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try DemoDatasets.writeSecurity(to: directory, count: 20, seed: 1)
        let train = try CSVTable.read(path: directory.appendingPathComponent("train.csv").path)
        let valid = try CSVTable.read(path: directory.appendingPathComponent("valid.csv").path)
        #expect(train.rowCount == 16 && valid.rowCount == 2)
        #expect(train.header == ["image"] + SecurityScenes.labelColumns)
        let image = try PNGImage.read(path: directory.appendingPathComponent(train.string(row: 0, column: 0)).path, channels: 3)
        #expect(image.width == 64 && image.height == 64)
    }
}
