// swift-tools-version:6.0
// flowtrain: a multi-task neural-network trainer driven by declarative flow files.
//
// Modules depend one way only:
//   CBridges (CYAML, CBLAS, CPNG, CJPEG, CMPI) → FileFormats → FlowSpec (→ FlowInference) → Engine → Tasks → Training → Evaluation
//   → Report, Export → Search → flowtrain
// ProcessGroups (MPI's processes, or one) sits beside Engine, below Training; ConvolutionKernels
// (C) sits below Engine alone.
// FileFormats reads and writes files (CSV, PNG, JPEG, safetensors, TensorBoard events; durable
// replacement) and knows nothing of flows or tensors; it holds `Problem`, the one error type of
// located problems, which is why FlowSpec, otherwise independent of it, imports it. FlowSpec
// knows YAML and the flow language; Engine knows tensors and nothing of flows; Evaluation reads
// a trained run back (decode, eval, thresholds, explain, predict); Report draws it (SVG plots,
// PNG contact sheets, report.html); Export writes it as an ONNX model; Search runs a flow's hyper-parameter search
// (trials as `flowtrain train` processes, asynchronous successive halving, search.html).
import PackageDescription

let package = Package(
    name: "flowtrain",
    products: [
        .executable(name: "flowtrain", targets: ["flowtrain"]),
        .library(name: "FileFormats", targets: ["FileFormats"]),
        .library(name: "FlowSpec", targets: ["FlowSpec"]),
        .library(name: "Training", targets: ["Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(name: "CYAML", path: "Sources/CBridges/CYAML",
                       pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBridges/CBLAS",
                       pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CBridges/CPNG",
                       pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // libjpeg-turbo's TurboJPEG API (Debian's 2.1: tjInitDecompress, tjDecompress2, …).
        .systemLibrary(name: "CJPEG", path: "Sources/CBridges/CJPEG",
                       pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CBridges/CMPI",
                       pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "FileFormats", dependencies: ["CPNG", "CJPEG"]),
        .target(name: "FlowSpec", dependencies: ["FileFormats", "CYAML"]),
        // `flowtrain init`: a flow inferred from a CSV (column types, tasks, preconditions).
        .target(name: "FlowInference", dependencies: ["FileFormats", "FlowSpec"]),
        // -fno-math-errno: without it, sqrt goes through a libm call that may set errno, and no
        // loop with a square root (Adam, norms) is vectorised.
        // C for the few kernels that need one function built for two instruction sets and
        // chosen at run time (AVX2 + FMA or portable), which Swift cannot express.
        .target(name: "ConvolutionKernels"),
        .target(name: "Engine", dependencies: ["CBLAS", "ConvolutionKernels"], swiftSettings: [.unsafeFlags(["-Xcc", "-fno-math-errno"])]),
        .target(name: "Tasks", dependencies: ["FlowSpec", "Engine"]),
        // The processes of a data-parallel training (MPI under mpirun, else one): beside Engine,
        // which stays one-process, and used by Training alone.
        .target(name: "ProcessGroups", dependencies: ["CMPI"]),
        .target(name: "Training", dependencies: ["FileFormats", "FlowSpec", "Engine", "Tasks", "ProcessGroups"]),
        .target(name: "Evaluation", dependencies: ["FileFormats", "FlowSpec", "Engine", "Tasks", "Training"]),
        .target(name: "Report", dependencies: ["FileFormats", "FlowSpec", "Tasks", "Training", "Evaluation"]),
        .target(name: "Export", dependencies: ["FileFormats", "FlowSpec", "Engine", "Tasks", "Training", "Evaluation"]),
        .target(name: "Search", dependencies: ["FileFormats", "FlowSpec", "ProcessGroups", "Training", "Report"]),
        .executableTarget(
            name: "flowtrain",
            dependencies: [
                "FileFormats", "FlowSpec", "FlowInference", "Engine", "Tasks", "ProcessGroups", "Training", "Evaluation", "Report", "Export", "Search",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // PNG files written byte by byte, for the tests of the PNG reader and of image inputs.
        .target(name: "HandMadePNG", path: "Tests/HandMadePNG"),
        // A protobuf decoder of the tests' own, to read written ONNX models back.
        .target(name: "ProtobufFields", path: "Tests/ProtobufFields"),
        .testTarget(name: "FileFormatsTests", dependencies: ["FileFormats", "CJPEG", "HandMadePNG", "ProtobufFields"]),
        .testTarget(name: "FlowInferenceTests", dependencies: ["FlowInference", "FlowSpec", "FileFormats", "HandMadePNG"]),
        .testTarget(name: "FlowSpecTests", dependencies: ["FlowSpec", "FileFormats"], exclude: ["BadFlows"]),
        // Interposes malloc in the test executable to count allocations per thread.
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "ConvolutionKernels", "AllocationCounter"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks"]),
        .testTarget(name: "TrainingTests",
                    dependencies: ["Training", "FileFormats", "FlowSpec", "Engine", "ProcessGroups", "AllocationCounter",
                                   "HandMadePNG"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Training", "Tasks", "FlowSpec", "FileFormats"]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Evaluation", "Training", "Tasks", "FlowSpec", "FileFormats"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Evaluation", "Training", "FileFormats"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "FlowSpec", "FileFormats"]),
        .testTarget(name: "CommandLineTests", dependencies: ["flowtrain", "ProtobufFields"]),
    ]
)
