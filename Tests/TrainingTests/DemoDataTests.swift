import FileFormats
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
        var unrated = 0, notCancelled = 0
        for _ in 0..<3000 {
            let row = table.next()
            #expect(row.count == OrdersTable.columns.count)
            let cancelled = row[column("cancelled")] == "1"
            #expect(row[column("cancel_reason")].isEmpty == !cancelled)
            #expect(row[column("delivery.shipped_late")].isEmpty == cancelled)
            let late = row[column("delivery.shipped_late")] == "1"
            #expect(row[column("delivery.delay_days")].isEmpty == !late)
            let reported = row[column("delivery.problems_reported")] == "1"
            // A rating exists only for delivered orders without reported problems, and even then
            // one customer in ten does not rate.
            if cancelled || reported { #expect(row[column("delivery.rating")].isEmpty) }
            if !cancelled, !reported {
                notCancelled += 1
                if row[column("delivery.rating")].isEmpty { unrated += 1 }
            }
        }
        #expect(Double(unrated) / Double(notCancelled) > 0.07 && Double(unrated) / Double(notCancelled) < 0.13)
    }

    /// The table has what `flows/orders.yaml` exercises: 25 columns, holes in four numeric
    /// ones (the weather's together), empty channels, rare countries, and numbers that parse.
    @Test func ordersHaveHolesRareCountriesAndEmptyChannels() {
        var table = OrdersTable(seed: 5)
        let column = { (name: String) in OrdersTable.columns.firstIndex(of: name)! }
        #expect(OrdersTable.columns.count == 25)
        var holes: [String: Int] = [:], countries: [String: Int] = [:], emptyChannels = 0
        let rows = 20_000
        for _ in 0..<rows {
            let row = table.next()
            for name in OrdersTable.numericColumns {
                let text = row[column(name)]
                if text.isEmpty { holes[name, default: 0] += 1 } else { #expect(Double(text) != nil, "\(name): \(text)") }
            }
            #expect(row[column("temperature_c")].isEmpty == row[column("wind_kmh")].isEmpty)
            countries[row[column("country")], default: 0] += 1
            if row[column("channel")].isEmpty { emptyChannels += 1 }
        }
        #expect(Set(holes.keys) == ["weight_kg", "customer_age", "temperature_c", "wind_kmh"])
        #expect(abs(Double(holes["customer_age"]!) / Double(rows) - 0.15) < 0.02)
        #expect(abs(Double(holes["temperature_c"]!) / Double(rows) - 0.10) < 0.02)
        #expect(emptyChannels > 0 && emptyChannels < rows / 10)
        #expect(countries.values.contains { $0 < 20 } && countries.values.contains { $0 > 1000 })
    }

    @Test func decimalsHaveTwoPlaces() {
        #expect(OrdersTable.decimal(3.14159) == "3.14")
        #expect(OrdersTable.decimal(-0.5) == "-0.50")
        #expect(OrdersTable.decimal(-0.001) == "0.00")
        #expect(OrdersTable.decimal(12) == "12.00")
        #expect(OrdersTable.decimal(0.07) == "0.07")
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

        try DemoDatasets.writeOrders(to: directory.appendingPathComponent("orders"), count: 30, seed: 1)
        let orders = try ["train", "valid", "test"].map { name in
            try CSVTable.read(path: directory.appendingPathComponent("orders/\(name).csv").path)
        }
        #expect(orders.map(\.rowCount) == [24, 3, 3])
        #expect(orders[0].header == OrdersTable.columns)
    }
}
