// swift-tools-version:5.4
// libFuzzer targets for flowtrain's parsers of untrusted input: flow files (YAML, validation,
// `when:` expressions), CSV, PNG, JPEG and safetensors. A package of its own so that the main package
// never builds with the fuzzer runtime; `make fuzz` builds and runs it (see README.md).
import PackageDescription

let package = Package(
    name: "flowtrain-fuzz",
    dependencies: [
        .package(name: "flowtrain", path: ".."),
    ],
    targets: [
        .executableTarget(name: "FuzzFlow", dependencies: ["FuzzSupport", .product(name: "FlowSpec", package: "flowtrain")]),
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "FileFormats", package: "flowtrain")]),
        .executableTarget(name: "FuzzPNG", dependencies: ["FuzzSupport", .product(name: "FileFormats", package: "flowtrain")]),
        .executableTarget(name: "FuzzJPEG", dependencies: ["FuzzSupport", .product(name: "FileFormats", package: "flowtrain")]),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", .product(name: "FileFormats", package: "flowtrain")]),
        // Scratch files for readers that only take a path; FUZZ_VERBOSE reporting; the image targets' check.
        .target(name: "FuzzSupport", dependencies: [.product(name: "FileFormats", package: "flowtrain")]),
    ]
)
