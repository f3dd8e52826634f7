import ArgumentParser
import CicloSchema
import Foundation
import Logging
import Postgres

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the numbered SQL migrations in schema/ that the database does not have yet.")

    @Option(help: "The folder of NNNN_name.sql files (default: CICLO_SCHEMA_DIR, ./schema, or beside the executable).")
    var schemaDir: String?

    @Flag(help: "List applied and pending migrations without applying any.")
    var status = false

    func run() async throws {
        try await UserError.reporting {
            let environment = CicloEnvironment()
            try environment.bootstrapLogging()
            let logger = Logger(label: "ciclo.migrate")
            let directory = MigrationLoader.locate(explicit: schemaDir ?? environment.values["CICLO_SCHEMA_DIR"])
            let migrations = try MigrationLoader.load(from: directory)
            let database = try environment.database(applicationName: "ciclo-migrate")
            let connection = try await PostgresConnection.connect(configuration: database, logger: logger)
            let migrator = Migrator(connection: connection, logger: logger)
            if status {
                let (applied, pending) = try await migrator.status(migrations)
                for record in applied { print("applied  \(record.version) \(record.name)  \(record.appliedAt)") }
                for migration in pending { print("pending  \(migration.version) \(migration.name)") }
                return
            }
            let report = try await migrator.migrate(migrations)
            for migration in report.applied { print("applied \(migration.fileName)") }
            print("\(report.applied.count) migration(s) applied, \(report.alreadyApplied) already applied")
        }
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print ciclo's version and the libpq it uses.")

    func run() async throws {
        print("ciclo \(BuildInfo.version) (libpq \(PostgresConnection.libpqVersion))")
    }
}
