/// Decoding of an image input's `augment:` mapping. Task names in `boxes`, `points` and
/// `invariant` are only read here; `AugmentationResolver` looks them up.
extension FlowDecoder {
    /// `size` is the image's height and width, nil when the shape itself was invalid (and
    /// reported). After any problem inside `augment:` the input is remembered in
    /// `sink.brokenAugmentations`, so that the coordinate rule is not judged against settings
    /// that were not meant; its task names are still looked up.
    func decodeAugmentation(_ node: YAMLNode, key: SourceLocation, input: String,
                            size: (height: Int, width: Int)?) -> Augmentation? {
        let context = "input '\(input)': augment"
        let problemsBefore = sink.count
        defer { if sink.count > problemsBefore { sink.brokenAugmentations.insert(input) } }
        guard var m = MappingReader(node, context: context, sink: sink,
                                    expecting: "a mapping of transforms such as {flip_horizontal: true, crop: 0.8}",
                                    owner: key)
        else { return nil }
        var a = Augmentation(location: key)
        a.flipHorizontal = m.value("flip_horizontal")?.bool("\(context).flip_horizontal", sink) ?? false
        a.flipVertical = m.value("flip_vertical")?.bool("\(context).flip_vertical", sink) ?? false
        if let rot90 = m.value("rot90")?.bool("\(context).rot90", sink) {
            a.rot90 = rot90
            if rot90, let size, size.height != size.width {
                sink.error("\(context).rot90: turning by 90° needs a square image, and this one is "
                           + "\(size.height)×\(size.width) (height × width)",
                           at: m.keyLocation("rot90"), hint: "use the flips, or a square shape with 'resize: true'")
            }
        }
        if let crop = m.value("crop") { a.crop = decodeCrop(crop, context: "\(context).crop") }
        if let blur = m.value("blur") { a.blur = decodeBlur(blur, context: "\(context).blur") }
        a.brightness = m.value("brightness")?.double("\(context).brightness", in: 0...1, sink) ?? 0
        a.contrast = m.value("contrast")?.double("\(context).contrast", in: 0...1, sink) ?? 0
        if let boxes = m.value("boxes") {
            a.boxes = decodeCoordinates(boxes, context: "\(context).boxes", width: 4,
                                        shape: "a box is 4 tasks [x, y, width, height]")
        }
        if let points = m.value("points") {
            a.points = decodeCoordinates(points, context: "\(context).points", width: 2,
                                         shape: "a point is 2 tasks [x, y]")
        }
        if let invariant = m.value("invariant") {
            a.invariant = decodeTaskReferences(invariant, context: "\(context).invariant")
        }
        m.finish()
        return a
    }

    /// `crop: 0.8` (side fraction 0.8 to 1) or `crop: {scale: [0.8, 1.0]}`.
    private func decodeCrop(_ node: YAMLNode, context: String) -> ClosedRange<Double>? {
        if case .scalar = node.content, !node.isNull {
            return node.double(context, in: 0...1, exclusiveLower: true, sink).map { $0...1 }
        }
        guard var m = MappingReader(node, context: context, sink: sink,
                                    expecting: "a side fraction such as 0.8, or {scale: [0.8, 1.0]}")
        else { return nil }
        let scale = m.required("scale", what: "the crop's side as a fraction of the image's, e.g. [0.8, 1.0]")
            .flatMap { decodeRange($0, context: "\(context).scale", within: 0...1, upperIfOne: 1) }
        m.finish()
        return scale
    }

    /// `blur: {sigma: [0.1, 1.0], p: 0.3}`; `sigma: 1.0` is a fixed σ.
    private func decodeBlur(_ node: YAMLNode, context: String) -> Blur? {
        guard var m = MappingReader(node, context: context, sink: sink,
                                    expecting: "a mapping such as {sigma: [0.1, 1.0], p: 0.5}")
        else { return nil }
        let sigma = m.required("sigma", what: "the blur's standard deviation in pixels, e.g. [0.1, 1.0]")
            .flatMap { decodeRange($0, context: "\(context).sigma", within: 0...10, upperIfOne: nil) }
        let probability = m.value("p")?.double("\(context).p", in: 0...1, sink) ?? 0.5
        m.finish()
        return sigma.map { Blur(sigma: $0, probability: probability) }
    }

    /// A number, or `[low, high]` with low ≤ high, each in `within` (its lower bound excluded).
    /// A single number is `number…upperIfOne`, or `number…number` when `upperIfOne` is nil.
    private func decodeRange(_ node: YAMLNode, context: String, within: ClosedRange<Double>,
                             upperIfOne: Double?) -> ClosedRange<Double>? {
        if case .sequence(let items) = node.content {
            guard items.count == 2 else {
                sink.error("\(context): expected [low, high], found \(items.count) number\(items.count == 1 ? "" : "s")",
                           at: node.location)
                return nil
            }
            let low = items[0].double(context, in: within, exclusiveLower: true, sink)
            let high = items[1].double(context, in: within, exclusiveLower: true, sink)
            guard let low, let high else { return nil }
            guard low <= high else {
                sink.error("\(context): [\(YAMLNode.format(low)), \(YAMLNode.format(high))] is empty", at: node.location,
                           hint: "write the smaller bound first")
                return nil
            }
            return low...high
        }
        guard let value = node.double(context, in: within, exclusiveLower: true, sink) else { return nil }
        return value...(upperIfOne ?? value)
    }

    /// A list of coordinates, each a list of `width` task names (4 for a box, 2 for a point).
    private func decodeCoordinates(_ node: YAMLNode, context: String, width: Int, shape: String) -> [[Located<String>]] {
        guard let items = node.list(context, sink) else { return [] }
        return items.compactMap { item in
            guard case .sequence(let names) = item.content, names.count == width else {
                let found = if case .sequence(let names) = item.content { "\(names.count)" } else { item.kindDescription }
                sink.error("\(context): \(shape), found \(found)", at: item.location)
                return nil
            }
            let references = decodeTaskReferences(item, context: context)
            return references.count == width ? references : nil
        }
    }

    /// Task names or dotted paths (`face_x1`, `person_regression.face_regression.face_x1`); those
    /// that are neither are reported and left out.
    private func decodeTaskReferences(_ node: YAMLNode, context: String) -> [Located<String>] {
        guard let items = node.list(context, sink) else { return [] }
        return items.compactMap { item -> Located<String>? in
            guard let text = item.string(context, sink) else { return nil }
            guard text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ Identifier.isValid(String($0)) })
            else {
                sink.error("\(context): '\(text)' is not a task name or path", at: item.location)
                return nil
            }
            return Located(value: text, location: item.location)
        }
    }
}
