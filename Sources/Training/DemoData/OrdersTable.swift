import Engine
import Foundation

/// A generated table of online orders for `flows/orders.yaml`, shaped like the tables people
/// bring: 13 numeric columns (four with holes, the weather's more often than the rest), five
/// categorical ones (one with rare values, one with empty cells), and conditional targets. An
/// order may be cancelled (and then has a reason); one that was not may ship late (and then has
/// a delay in days), may have problems, and is rated unless problems were reported or the
/// customer did not bother (a label missing at random).
public struct OrdersTable {
    public static let carriers = ["postal", "swift", "parcelco", "freightly", "bikeway"]
    public static let categories = ["books", "clothing", "electronics", "furniture", "garden", "grocery", "home", "toys"]
    public static let payments = ["card", "paypal", "bank_transfer", "cash_on_delivery", "gift_card"]
    public static let channels = ["web", "app", "phone", "marketplace"]
    public static let reasons = ["customer_request", "payment_failed", "out_of_stock", "fraud"]
    public static let problems = ["damaged", "wrong_item", "missing_parts"]
    public static let numericColumns = [
        "items", "total_price", "discount_pct", "weight_kg", "distance_km", "promised_days", "customer_age",
        "account_days", "past_orders", "past_returns", "warehouse_load", "temperature_c", "wind_kmh",
    ]
    public static let categoryColumns = ["carrier", "country", "category", "payment", "channel"]
    public static let labelColumns = [
        "cancelled", "cancel_reason", "delivery.shipped_late", "delivery.delay_days", "delivery.problems",
        "delivery.rating", "delivery.problems_reported",
    ]
    public static let columns = numericColumns + categoryColumns + labelColumns

    var random: Random

    public init(seed: UInt64) { random = Random(seed: seed) }

    private mutating func chance(_ p: Double) -> Bool { Double(random.uniform()) < p }
    private mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * Double(random.uniform()) }
    private mutating func pick(_ count: Int) -> Int { min(Int(random.uniform() * Float(count)), count - 1) }
    private static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// One order's cells, in `columns` order; empty where a value is missing or undefined.
    public mutating func next() -> [String] {
        let category = pick(Self.categories.count)
        let heavy = category == 3 || category == 4, fragile = category == 2 || category == 6
        let items = 1 + pick(8)
        let price = Double(items) * (category == 2 ? uniform(40, 300) : uniform(5, 50))
        let discount = chance(0.7) ? 0 : Double(5 * (1 + pick(8)))
        let weight = Double(items) * (heavy ? uniform(2, 12) : uniform(0.1, 2))
        let distance = 5 + 1500 * Double(random.uniform() * random.uniform())
        let promised = 1 + pick(7)
        let age = 18 + 60 * Double(random.uniform() * random.uniform()) + 10 * Double(random.uniform())
        let accountDays = Int(2000 * Double(random.uniform() * random.uniform() * random.uniform()))
        let pastOrders = Int(30 * random.uniform() * random.uniform())
        let pastReturns = Int(Double(pastOrders) * 0.3 * Double(random.uniform()))
        let load = Double(random.uniform())
        let temperature = uniform(-15, 35)
        let wind = 60 * Double(random.uniform() * random.uniform())
        let carrier = pick(Self.carriers.count)
        // Countries by a skewed popularity: a few are rare, as `min_count` expects.
        let country = "c" + String(min(Int(40 * random.uniform() * random.uniform()), 39))
        let payment = pick(Self.payments.count)
        // Phone orders taken by hand sometimes leave the channel blank: a value of its own.
        let channel = pick(Self.channels.count)
        let channelText = channel == 2 && chance(0.3) ? "" : Self.channels[channel]

        // Holes: the weather feed is down now and then; ages and weights are not always known.
        var row = [String(items), Self.decimal(price), Self.decimal(discount), chance(0.05) ? "" : Self.decimal(weight),
                   Self.decimal(distance), String(promised), chance(0.15) ? "" : Self.decimal(age), String(accountDays),
                   String(pastOrders), String(pastReturns), Self.decimal(load)]
        let weatherMissing = chance(0.1)
        row += [weatherMissing ? "" : Self.decimal(temperature), weatherMissing ? "" : Self.decimal(wind)]
        row += [Self.carriers[carrier], country, Self.categories[category], Self.payments[payment], channelText]

        let newAccount = accountDays < 14
        let risk = -3.2 + 0.003 * price + (pastReturns > 3 ? 1.5 : 0) + (carrier == 4 ? 0.8 : 0)
            + (payment == 2 ? 0.9 : 0) + (payment == 3 ? 0.6 : 0) + (newAccount ? 1.2 : 0) + (load > 0.9 ? 1 : 0)
        let cancelled = chance(Self.sigmoid(risk))
        row.append(cancelled ? "1" : "0")
        guard !cancelled else {
            let reason = newAccount && price > 150 ? 3 : payment == 2 || payment == 3 ? 1 : load > 0.9 || items > 6 ? 2 : 0
            return row + [Self.reasons[reason], "", "", "", "", ""]
        }
        row.append("")  // no cancel reason
        let storm = temperature < -5 || wind > 40
        let lateScore = -2.5 + distance / 400 + (carrier == 1 ? -1 : 0) + (carrier == 3 ? 1 : 0) + (storm ? 1.5 : 0)
            + (promised <= 2 ? 1 : 0) + 2 * max(0, load - 0.7)
        let late = chance(Self.sigmoid(lateScore))
        row.append(late ? "1" : "0")
        row.append(late ? Self.decimal(1 + distance / 200 + (storm ? 3 : 0) + 4 * max(0, load - 0.7) + 2 * Double(random.uniform())) : "")
        var found: [String] = []
        if fragile || heavy, weight > 6, chance(0.6) { found.append("damaged") }
        if items > 5, load > 0.6, chance(0.5) { found.append("wrong_item") }
        if chance(category == 3 ? 0.2 : 0.03) { found.append("missing_parts") }
        let reported = !found.isEmpty && chance(0.8)
        row.append(found.isEmpty ? "none" : found.joined(separator: "|"))
        let rating = 4.6 - (late ? 1.5 : 0) - Double(found.count) - (channel == 2 ? 0.3 : 0) + 0.2 * Double(random.normal())
        row.append(reported || chance(0.1) ? "" : Self.decimal(max(0, min(5, rating))))
        row.append(reported ? "1" : "0")
        return row
    }

    /// `value` with two decimals, without `String(format:)` (hundreds of thousands of rows).
    static func decimal(_ value: Double) -> String {
        let hundredths = Int((abs(value) * 100).rounded())
        let fraction = hundredths % 100
        return (value < 0 && hundredths > 0 ? "-" : "") + String(hundredths / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }
}
