import Engine

/// A generated table of online orders for `flows/orders.yaml`: numeric columns (one with
/// holes), two categorical ones (one with rare values), and conditional targets: an order may
/// be cancelled (and then has a reason); one that was not may ship late (and then has a delay
/// in days), may have problems, and is rated unless problems were reported.
public struct OrdersTable {
    public static let carriers = ["postal", "swift", "parcelco", "freightly", "bikeway"]
    public static let reasons = ["customer_request", "payment_failed", "out_of_stock", "fraud"]
    public static let problems = ["damaged", "wrong_item", "missing_parts"]
    public static let columns = [
        "items", "total_price", "weight_kg", "distance_km", "past_orders", "past_returns", "carrier", "country",
        "cancelled", "cancel_reason", "delivery.shipped_late", "delivery.delay_days", "delivery.problems",
        "delivery.rating", "delivery.problems_reported",
    ]

    var random: Random

    public init(seed: UInt64) { random = Random(seed: seed) }

    private mutating func chance(_ p: Double) -> Bool { Double(random.uniform()) < p }

    /// One order's cells, in `columns` order; empty where a value is missing or undefined.
    public mutating func next() -> [String] {
        let items = 1 + Int(random.uniform() * 8)
        let price = Double(items) * (5 + 45 * Double(random.uniform()))
        let weight = Double(items) * (0.2 + 2 * Double(random.uniform()))
        let distance = 5 + 1500 * Double(random.uniform() * random.uniform())
        let pastOrders = Int(30 * random.uniform() * random.uniform())
        let pastReturns = Int(Double(pastOrders) * 0.3 * Double(random.uniform()))
        let carrier = Int(random.uniform() * Float(Self.carriers.count))
        // Countries by a skewed popularity: a few are rare, as `min_count` expects.
        let country = "c" + String(min(Int(20 * random.uniform() * random.uniform()), 19))
        func format(_ value: Double) -> String { String(format: "%.2f", value) }
        var row = [String(items), format(price), chance(0.05) ? "" : format(weight), format(distance),
                   String(pastOrders), String(pastReturns), Self.carriers[carrier], country]
        let risk = -3 + 0.004 * price + (pastReturns > 3 ? 1.5 : 0) + (carrier == 4 ? 0.8 : 0)
        let cancelled = chance(1 / (1 + exp(-risk)))
        row.append(cancelled ? "1" : "0")
        guard !cancelled else {
            let reason = price > 250 ? 3 : pastReturns > 3 ? 0 : items > 6 ? 2 : 1
            return row + [Self.reasons[reason], "", "", "", "", ""]
        }
        row.append("")  // no cancel reason
        let lateScore = -2 + distance / 400 + (carrier == 1 ? -1 : 0) + (carrier == 3 ? 1 : 0)
        let late = chance(1 / (1 + exp(-lateScore)))
        row.append(late ? "1" : "0")
        row.append(late ? format(1 + distance / 200 + 2 * Double(random.uniform())) : "")
        var found: [String] = []
        if weight > 8, chance(0.5) { found.append("damaged") }
        if items > 5, chance(0.3) { found.append("wrong_item") }
        if chance(0.05) { found.append("missing_parts") }
        let reported = !found.isEmpty && chance(0.8)
        row.append(found.isEmpty ? "none" : found.joined(separator: "|"))
        row.append(reported ? "" : format(max(0, min(5, 4.6 - (late ? 1.5 : 0) - Double(found.count)))))
        row.append(reported ? "1" : "0")
        return row
    }
}

import Foundation
