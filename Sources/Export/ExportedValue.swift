import FileFormats

/// A value of the exported graph, with what the exporter must know to keep computing what the
/// engine computes: the per-sample shape the engine sees, the element type, and for an image
/// whether ONNX's channels-first layout holds it.
///
/// The engine keeps images as H × W × C (NHWC); ONNX's Conv and pooling read N × C × H × W.
/// Values move between the two layouts only where an operator needs the other one — before
/// the first convolution, before a flatten or a layer norm — so a conv stack pays one
/// transpose at each end, not one per layer.
struct ExportedValue {
    var name: String
    /// Per sample, in the engine's order: [H, W, C] for an image, [L, D] for a sequence,
    /// [D] for a vector.
    var shape: [Int]
    var elementType: ONNXElementType = .float
    /// An image held as N × C × H × W.
    var channelsFirst = false

    var isImage: Bool { shape.count == 3 }
    var width: Int { shape.reduce(1, *) }
}

extension ONNXGraphBuilder {
    /// `value` laid out as the engine lays it out: N × H × W × C for an image.
    func channelsLast(_ value: ExportedValue) -> ExportedValue {
        guard value.channelsFirst else { return value }
        var result = value
        result.name = add("Transpose", [value.name], "\(value.name).nhwc", [("perm", .integers([0, 2, 3, 1]))])
        result.channelsFirst = false
        return result
    }

    /// An image laid out as ONNX's Conv and pooling read it: N × C × H × W.
    func channelsFirst(_ value: ExportedValue) -> ExportedValue {
        guard !value.channelsFirst, value.isImage else { return value }
        var result = value
        result.name = add("Transpose", [value.name], "\(value.name).nchw", [("perm", .integers([0, 3, 1, 2]))])
        result.channelsFirst = true
        return result
    }

    /// `value` as float32 (token ids fed to something other than an embedding).
    func float(_ value: ExportedValue) -> ExportedValue {
        guard value.elementType != .float else { return value }
        var result = value
        result.name = add("Cast", [value.name], "\(value.name).float", [("to", .integer(ONNXElementType.float.rawValue))])
        result.elementType = .float
        return result
    }

    /// One vector per sample, in the engine's order of the values (`flatten`).
    func flatten(_ value: ExportedValue) -> ExportedValue {
        guard value.shape.count > 1 else { return value }
        let last = channelsLast(value)
        return ExportedValue(name: add("Flatten", [last.name], "\(value.name).flat", [("axis", .integer(1))]),
                             shape: [value.width], elementType: value.elementType)
    }

    /// `value` in `reference`'s layout (the two sides of a residual connection).
    func sameLayout(_ value: ExportedValue, as reference: ExportedValue) -> ExportedValue {
        reference.channelsFirst ? channelsFirst(value) : channelsLast(value)
    }
}
