import ArgumentParser
import FileFormats
import Foundation
import Training

/// `flowtrain datasets NAME`: write a demo data set.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Write a generated demo data set.",
        discussion: """
            security: 64×64 camera views of a front door (PNG, or JPEG with --format jpeg) with labels for \
            flows/security.yaml, split into train.csv, valid.csv and test.csv. \
            orders: a table of online orders for flows/orders.yaml (13 numeric columns, some with holes, 5 categorical, \
            conditional targets), split into train.csv, valid.csv and test.csv. \
            tickets: support tickets for flows/tickets.yaml (a line of text naming products, versions and error \
            codes; is_bug, its severity and component, a B-/I-/O tag per token), split the same way. \
            The same seed writes the same data.
            """)

    /// The data sets this command can write.
    enum Name: String, ExpressibleByArgument, CaseIterable {
        case security, orders, tickets
    }

    @Argument(help: "The data set to write.")
    var name: Name

    @Option(help: "The directory to write into (default: datasets/NAME).")
    var out: String?

    @Option(name: .customLong("n"), help: "Number of samples (default: 10000 scenes, 300000 orders, 12000 tickets).")
    var count: Int?

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Option(help: "The security scenes' image format (jpeg: quality \(DemoDatasets.jpegQuality), 4:4:4; default: png).")
    var format: ImageFile.Format?

    func validate() throws {
        if let count, count < 10 { throw ValidationError("--n must be at least 10") }
        if format != nil, name != .security { throw ValidationError("--format applies to the security data set only") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: out ?? "datasets/\(name.rawValue)")
        switch name {
        case .security:
            try DemoDatasets.writeSecurity(to: directory, count: count ?? 10_000, seed: seed, format: format ?? .png)
        case .orders:
            try DemoDatasets.writeOrders(to: directory, count: count ?? 300_000, seed: seed)
        case .tickets:
            try DemoDatasets.writeTickets(to: directory, count: count ?? 12_000, seed: seed)
        }
        print("wrote \(name.rawValue) data to \(directory.path)")
    }
}

/// `--format png|jpeg`.
extension ImageFile.Format: ExpressibleByArgument {}
