/// Numbers as a user writes them in a flow: `64`, not `64.0`; otherwise the shortest text
/// that reads back as the same double (`0.001`, `1e-05`).
public enum FlowNumber {
    public static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
