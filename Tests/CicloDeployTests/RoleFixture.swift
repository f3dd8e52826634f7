import CicloTestSupport
import Foundation
import Postgres
import Testing

/// A fresh migrated database, the owner's connection to it, and login roles made the way deploy/README.md tells an
/// operator to (`CREATE ROLE name LOGIN IN ROLE ciclo_worker`). Logins are cluster-wide, so each gets a unique name
/// and is dropped afterwards with the database.
final class RoleFixture: @unchecked Sendable {
    let db: MigrationDatabase
    let owner: PostgresConnection
    private var logins: [String] = []

    private init(db: MigrationDatabase, owner: PostgresConnection) {
        self.db = db
        self.owner = owner
    }

    static func with(_ body: (RoleFixture) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        let fixture: RoleFixture
        do {
            fixture = RoleFixture(db: db, owner: try await db.connect())
        } catch {
            await db.drop()
            throw error
        }
        var failure: Error?
        do { try await body(fixture) } catch { failure = error }
        await fixture.owner.close()
        await db.drop()
        for name in fixture.logins {
            _ = try? await fixture.adminQuery("DROP ROLE IF EXISTS \(name)")
        }
        if let failure { throw failure }
    }

    /// A new login role in `group`; returns the database URL that connects as it.
    func login(in group: String) async throws -> String {
        let name = "app_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        // CREATE ROLE takes no parameters; the name is hex digits and the group one of 0015's four.
        precondition(["ciclo_worker", "ciclo_scheduler", "ciclo_reporter", "ciclo_analyst"].contains(group))
        try await adminQuery("CREATE ROLE \(name) LOGIN IN ROLE \(group)")
        logins.append(name)
        return db.url.replacingOccurrences(of: #"://[^@/]+@"#, with: "://\(name)@", options: .regularExpression)
    }

    /// Connects to the test database as the login behind `url`.
    func connect(_ url: String) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: .init(connectionString: url, applicationName: "ciclo-tests-role"),
            logger: MigrationDatabase.logger)
    }

    private func adminQuery(_ sql: String) async throws {
        let admin = try await PostgresConnection.connect(
            configuration: .init(connectionString: try MigrationDatabase.baseURL(), applicationName: "ciclo-tests"),
            logger: MigrationDatabase.logger)
        defer { Task { await admin.close() } }
        try await admin.query(sql)
    }
}

/// The SQLSTATE a statement fails with, or nil when it succeeds.
func sqlState(of sql: String, on conn: PostgresConnection) async -> String? {
    do {
        try await conn.query(sql)
        return nil
    } catch let error as PostgresError {
        return error.sqlState ?? "no SQLSTATE: \(error.message)"
    } catch {
        return "\(error)"
    }
}

/// Expects every statement to be refused for lack of privilege (42501), and names the ones that were not.
func expectRefused(_ statements: [String], on conn: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation)
    async
{
    for sql in statements {
        let state = await sqlState(of: sql, on: conn)
        #expect(state == "42501", "expected permission denied for: \(sql); got \(state ?? "success")",
                sourceLocation: sourceLocation)
    }
}

/// Expects every statement to succeed, and names the ones that did not.
func expectAllowed(_ statements: [String], on conn: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation)
    async
{
    for sql in statements {
        let state = await sqlState(of: sql, on: conn)
        #expect(state == nil, "expected \(sql) to succeed; got \(state ?? "")", sourceLocation: sourceLocation)
    }
}
