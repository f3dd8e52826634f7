import ArgumentParser
import CicloCampaigns
import CicloScheduler
import Foundation
import Logging
import Postgres

/// `ciclo config apply FILE` and `ciclo config show`: the deployment's lifecycle stages, transition rules, lead
/// scoring, attribute catalogue, contact policy and global holdout.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Apply or show the lifecycle configuration (stages, rules, scoring, attributes, contact policy).",
        subcommands: [Apply.self, Show.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file and make it the stored configuration, all of it or nothing.",
            discussion: """
                Every section replaces what is stored; a section left out means none. A stage that the file drops
                while customers are in it or campaigns (not archived) serve it is refused, and nothing is applied.
                Exit status 65 for a bad file or a refused stage, 66 when the file cannot be read.
                """)

        @Argument(help: "The configuration file, YAML or JSON.") var file: String

        func run() async throws {
            try await UserError.reporting {
                let configuration = try ConfigCommand.read(file)
                let environment = CicloEnvironment()
                try environment.bootstrapLogging()
                let conn = try await PostgresConnection.connect(
                    configuration: try environment.database(applicationName: "ciclo-config"),
                    logger: Logger(label: "ciclo.config"))
                let summary: LifecycleStore.Summary
                do {
                    summary = try await LifecycleStore().apply(configuration, on: conn)
                } catch let error as LifecycleStoreError {
                    throw UserError(description: error.description + ".", exitCode: 65)
                }
                print("""
                    applied \(file): \(summary.stages) stages, \(summary.transitions) transition rules, \
                    \(summary.scoredEventKinds) scored event kinds, \(summary.attributes) attributes, \
                    \(summary.channels) channel policies, global holdout \(summary.globalHoldout ? "on" : "off"), \
                    \(summary.providerLimits) provider limits
                    """)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the stored configuration in the format `config apply` reads.")

        func run() async throws {
            try await UserError.reporting {
                let environment = CicloEnvironment()
                try environment.bootstrapLogging()
                let conn = try await PostgresConnection.connect(
                    configuration: try environment.database(applicationName: "ciclo-config"),
                    logger: Logger(label: "ciclo.config"))
                let configuration = try await LifecycleStore().load(on: conn)
                if configuration.stages.isEmpty {
                    throw UserError.configuration("No lifecycle stages are stored; run `ciclo config apply FILE`")
                }
                print(configuration.yaml(), terminator: "")
            }
        }
    }

    /// Reads and validates the file: 66 when it cannot be read, 65 when it is not a valid configuration.
    static func read(_ file: String) throws -> LifecycleConfiguration {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw UserError(description: "Cannot read \(file); check the path and its permissions.", exitCode: 66)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw UserError(description: "\(file) is not UTF-8 text.", exitCode: 65)
        }
        do {
            return try LifecycleConfiguration.parse(text, file: file)
        } catch {
            throw UserError(description: error.description + ".", exitCode: 65)
        }
    }
}
