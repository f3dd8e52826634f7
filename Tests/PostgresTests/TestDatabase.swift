import Foundation
import Logging
import Postgres

/// The real PostgreSQL server that `make test` starts (scripts/with-test-db.sh). There is no mock: without a server
/// the tests fail and say how to get one.
enum TestDatabase {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "CICLO_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL"
        }
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CICLO_TEST_DATABASE_URL"], !url.isEmpty else {
            throw Missing()
        }
        return url
    }

    static func configuration(_ applicationName: String = "ciclo-tests") throws -> PostgresConfiguration {
        PostgresConfiguration(connectionString: try url(), applicationName: applicationName)
    }

    static let logger = Logger(label: "ciclo.tests")

    static func connect(_ applicationName: String = "ciclo-tests") async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: configuration(applicationName), logger: logger)
    }

    /// A table name no other test uses, so tests can run in parallel on one database.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }
}
