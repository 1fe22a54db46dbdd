/// The shape of one sample as it flows through the trunk and heads (the batch axis is implicit).
/// Images are height × width × channels (NHWC in the engine).
public enum Shape: Hashable, Sendable, CustomStringConvertible {
    case vector(SymbolicCount)
    case image(height: Int, width: Int, channels: Int)
    /// A sequence of `length` positions with `features` values each.
    case sequence(length: Int, features: SymbolicCount)
    /// Integer token ids of the named tokens input, before an embedding layer.
    case tokenIDs(length: Int, input: String)

    public var description: String {
        switch self {
        case .vector(let width): "[\(width)]"
        case let .image(h, w, c): "[\(h), \(w), \(c)]"
        case let .sequence(length, features): "[\(length), \(features)]"
        case .tokenIDs(let length, _): "[\(length)] token ids"
        }
    }

    /// How errors name this shape: "an image [30, 30, 16]".
    var phrase: String {
        switch self {
        case .vector: "a vector \(self)"
        case .image: "an image \(self)"
        case .sequence: "a sequence \(self)"
        case .tokenIDs(let length, _): "\(length) token ids"
        }
    }

    /// The width of the last axis, which dense, layernorm and batchnorm act on.
    var features: SymbolicCount? {
        switch self {
        case .vector(let width): width
        case .image(_, _, let c): SymbolicCount(c)
        case .sequence(_, let features): features
        case .tokenIDs: nil
        }
    }

    /// The same values as one vector, as `flatten` and concatenation see them.
    var flattened: SymbolicCount? {
        switch self {
        case .vector(let width): width
        case let .image(h, w, c): SymbolicCount(h * w * c)
        case let .sequence(length, features): SymbolicCount(length) * features
        case .tokenIDs: nil
        }
    }
}
