/// Resolves the task names of each image input's `augment:` and enforces the coordinate rule:
/// when an augmentation moves pixels (flips, rot90, crop), every bounded-regression task that
/// reads the image, through any chain of trunk branches, must say how its label follows the
/// image: as part of a box, as part of a point, or as invariant.
struct AugmentationResolver {
    let flow: Flow
    let sink: DiagnosticSink

    func resolve(_ inputs: inout [ResolvedInput], tasks: [ResolvedTask]) {
        let tree = TaskTree(flow.tasks)
        var listed: [TaskPath: SourceLocation] = [:]
        for index in inputs.indices {
            guard let settings = inputs[index].input.augmentation else { continue }
            let name = inputs[index].input.name
            let context = "input '\(name)': augment"
            let problemsBefore = sink.count
            func paths(_ names: [Located<String>], _ key: String) -> [TaskPath]? {
                let resolved = names.compactMap { resolve($0, context: "\(context).\(key)", tree: tree, image: name,
                                                          tasks: tasks, listed: &listed) }
                return resolved.count == names.count ? resolved : nil
            }
            let boxes = settings.boxes.compactMap { paths($0, "boxes") }
            let points = settings.points.compactMap { paths($0, "points") }
            let invariant = paths(settings.invariant, "invariant") ?? []
            // A name that did not resolve was reported; its task would also count as unlisted.
            guard sink.count == problemsBefore, !sink.brokenAugmentations.contains(name) else { continue }
            if settings.isGeometric {
                let covered = Set(boxes.joined()).union(points.joined()).union(invariant)
                for task in tasks where task.spec.type == .boundedRegression && !covered.contains(task.path)
                    && reads(task.inputName, image: name) {
                    sink.error("\(context) moves the image, and bounded_regression task '\(task.path)' reads it",
                               at: settings.location,
                               hint: "list it in 'boxes' or 'points' if its label is a coordinate, in 'invariant' "
                                   + "if it does not depend on position, or turn off flip_horizontal, flip_vertical, rot90 and crop")
                }
            }
            inputs[index].augmentation = ResolvedAugmentation(settings: settings, boxes: boxes, points: points,
                                                              invariant: invariant)
        }
    }

    /// The path of the bounded-regression task `name` means, after reporting why there is none.
    /// A bare name means the one task of that name anywhere in the tree; a dotted name is a path.
    private func resolve(_ name: Located<String>, context: String, tree: TaskTree, image: String,
                         tasks: [ResolvedTask], listed: inout [TaskPath: SourceLocation]) -> TaskPath? {
        let isPath = name.value.contains(".")
        let matches = tree.entries.filter { isPath ? $0.path.description == name.value : $0.path.name == name.value }
        guard let entry = matches.first else {
            let brokenNames = sink.brokenTasks.map { $0.split(separator: ".").last.map(String.init) ?? $0 }
            if sink.brokenTasks.contains(name.value) || brokenNames.contains(name.value) { return nil }
            let leaves = tree.leaves
            sink.error("\(context): unknown task '\(name.value)'", at: name.location,
                       hint: Suggestion.hint(for: name.value, among: leaves.map(\.path.name) + leaves.map(\.path.description)))
            return nil
        }
        guard matches.count == 1 else {
            sink.error("\(context): '\(name.value)' names \(matches.count) tasks: "
                       + matches.map { "'\($0.path)'" }.joined(separator: ", "), at: name.location,
                       hint: "write the path of the one meant")
            return nil
        }
        guard let spec = entry.spec else {
            sink.error("\(context): '\(entry.path)' is a nested flow; list its bounded_regression tasks", at: name.location)
            return nil
        }
        guard spec.type == .boundedRegression else {
            sink.error("\(context): task '\(entry.path)' is \(spec.type.rawValue); only bounded_regression tasks "
                       + "are listed here", at: name.location)
            return nil
        }
        if let first = listed[entry.path] {
            sink.error("\(context): task '\(entry.path)' is already listed (line \(first.line))", at: name.location)
            return nil
        }
        listed[entry.path] = name.location
        // A task that failed to resolve (its input or head was reported) is not judged further.
        if let task = tasks.first(where: { $0.path == entry.path }), !reads(task.inputName, image: image) {
            sink.error("\(context): task '\(entry.path)' does not read input '\(image)', so the image's transforms "
                       + "do not concern it", at: name.location)
            return nil
        }
        return entry.path
    }

    /// Whether the input or branch `source` is computed from the input `image`.
    private func reads(_ source: String, image: String) -> Bool {
        var seen: Set<String> = []
        var pending = [source]
        while let name = pending.popLast() {
            if name == image { return true }
            guard seen.insert(name).inserted, let branch = flow.trunk.first(where: { $0.name == name }) else { continue }
            pending += branch.sources.map(\.value)
        }
        return false
    }
}
