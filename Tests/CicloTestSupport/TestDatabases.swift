import Foundation
import Logging
import CicloSchema
import Postgres

/// A fresh database per test on the server `make test` started, dropped afterwards.
public struct MigrationDatabase: Sendable {
    public let name: String
    public let url: String

    public static let logger = Logger(label: "ciclo.tests.schema")

    public static func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CICLO_TEST_DATABASE_URL"], !url.isEmpty else {
            throw PostgresError(code: .misuse, message: "CICLO_TEST_DATABASE_URL is not set: run the tests with `make test`")
        }
        return url
    }

    public static func create() async throws -> MigrationDatabase {
        let base = try baseURL()
        let name = "mig_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try await PostgresConnection.connect(
            configuration: .init(connectionString: base, applicationName: "ciclo-tests"), logger: logger)
        // CREATE DATABASE takes no parameters; the name is generated above from hex digits only.
        try await admin.query("CREATE DATABASE \(name)")
        await admin.close()
        let url = base.replacingOccurrences(of: #"/[^/?]+(\?|$)"#, with: "/\(name)$1", options: .regularExpression)
        return MigrationDatabase(name: name, url: url)
    }

    /// The configuration for this database, as a process under test would build it.
    public func configuration(_ applicationName: String = "ciclo-tests") throws -> PostgresConfiguration {
        PostgresConfiguration(connectionString: url, applicationName: applicationName)
    }

    public func connect(_ applicationName: String = "ciclo-tests") async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(connectionString: url, applicationName: applicationName), logger: Self.logger)
    }

    public func drop() async {
        guard let admin = try? await PostgresConnection.connect(
            configuration: .init(connectionString: try Self.baseURL(), applicationName: "ciclo-tests"),
            logger: Self.logger)
        else { return }
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        await admin.close()
    }

    /// The repository's schema/ folder.
    public static var schemaDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schema")
    }

    /// The `ciclo` executable built beside the test bundle.
    public static var cicloExecutable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ciclo")
    }
}

/// A scratch folder of migration files for tests that edit or add files.
public struct ScratchSchema {
    public let directory: URL

    public init(copying source: URL = MigrationDatabase.schemaDirectory) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file.hasSuffix(".sql") {
            try FileManager.default.copyItem(
                at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
    }

    public func write(_ fileName: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(fileName))
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension MigrationDatabase {
    /// A fresh database with every migration in schema/ applied.
    public static func migrated() async throws -> MigrationDatabase {
        let db = try await create()
        let conn = try await db.connect()
        _ = try await Migrator(connection: conn, logger: logger).migrate(try MigrationLoader.load(from: schemaDirectory))
        await conn.close()
        return db
    }
}
