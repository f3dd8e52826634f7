import ArgumentParser
import CicloCampaigns
import CicloScheduler
import Foundation
import Logging
import Postgres

struct SegmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment", abstract: "Save named segments and see who is in them.",
        subcommands: [Apply.self, Count.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a segment file (name: and rule:) and save it as a named segment.")

        @Argument(help: "The segment file, YAML or JSON.") var file: String

        func run() async throws {
            try await UserError.reporting {
                let conn = try await SegmentCommand.connect("ciclo-segment")
                let catalog = SegmentCatalog()
                let parsed = try SegmentFile.parse(
                    try SegmentCommand.read(file), file: file, catalogue: try await catalog.catalogue(on: conn))
                let changed = try await catalog.save(name: parsed.name, segment: parsed.segment, on: conn)
                print(changed ? "segment \(parsed.name) saved" : "segment \(parsed.name) unchanged")
            }
        }
    }

    struct Count: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how many customers a segment holds, and the first of them by id.",
            discussion: "SEGMENT is a segment file (as for apply) when such a file exists, else a saved segment's name."
        )

        @Argument(help: "A segment file or a saved segment's name.") var segment: String
        @Option(help: "Count as of this instant (RFC 3339); default now.") var now: String?
        @Option(help: "How many customers to list.") var sample = 10

        func validate() throws {
            if let now { _ = try parseInstant(now, flag: "--now") }
            guard sample >= 0 else { throw ValidationError("--sample must not be negative") }
        }

        func run() async throws {
            try await UserError.reporting {
                let instant = try now.map { try parseInstant($0, flag: "--now") } ?? Date()
                let conn = try await SegmentCommand.connect("ciclo-segment")
                let catalog = SegmentCatalog()
                let catalogue = try await catalog.catalogue(on: conn)
                let name: String
                let rule: Segment
                if FileManager.default.fileExists(atPath: segment) {
                    let parsed = try SegmentFile.parse(
                        try SegmentCommand.read(segment), file: segment, catalogue: catalogue)
                    (name, rule) = (parsed.name, parsed.segment)
                } else if let saved = try await catalog.load(name: segment, catalogue: catalogue, on: conn) {
                    (name, rule) = (segment, saved)
                } else {
                    let problem = "\(segment) is neither a file nor a saved segment"
                    throw UserError(description: problem + "; save one with `ciclo segment apply FILE`", exitCode: 66)
                }
                let count = try await catalog.count(rule, now: instant, sample: sample, on: conn)
                let customers = count.size == 1 ? "customer" : "customers"
                print("segment \(name): \(count.size) \(customers) as of \(ISO8601DateFormatter().string(from: instant))")
                guard !count.sample.isEmpty else { return }
                let rows = count.sample.map { [$0.externalID, $0.stage ?? "-", $0.persona ?? "-", $0.locale] }
                for line in TextTable.render(header: ["EXTERNAL ID", "STAGE", "PERSONA", "LOCALE"], rows: rows) {
                    print(line)
                }
            }
        }
    }

    static func connect(_ applicationName: String) async throws -> PostgresConnection {
        let environment = CicloEnvironment()
        try environment.bootstrapLogging()
        return try await PostgresConnection.connect(
            configuration: try environment.database(applicationName: applicationName),
            logger: Logger(label: "ciclo.segment"))
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UserError(description: "\(path) cannot be read; check the path", exitCode: 66)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
