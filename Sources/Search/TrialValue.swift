import FlowSpec

/// A parameter's value in one trial: the YAML put into the trial's flow, how trials.csv and
/// the page write it, and where the page plots it.
public struct TrialValue: Sendable {
    /// What goes at the parameter's path in the trial's flow.
    public var node: YAMLNode
    /// As YAML on one line: `0.00234`, `256`, `dwa`, `{name: dwa, temperature: 1}`.
    public var text: String
    /// The number drawn; nil for a choice (plotted by its position among the choices).
    public var number: Double?
    /// The choice's position in its list; nil for a drawn number.
    public var choice: Int?

    /// The `index`th value of a choice list.
    public init(choice index: Int, of values: [YAMLNode]) {
        node = values[index]
        text = YAMLWriter.inline(values[index])
        choice = index
    }

    /// A number, written plain (`64`, `0.0023`) at `location` (the parameter's, for problems).
    public init(number: Double, at location: SourceLocation) {
        text = FlowNumber.text(number)
        node = .plain(text, at: location)
        self.number = number
    }
}
