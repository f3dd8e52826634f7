import Foundation
import Logging
import Postgres

/// Applies migrations in order, each in its own transaction, under an advisory lock so concurrent runs queue up
/// instead of racing. Every applied file is recorded with its checksum; an applied file that was edited since is
/// refused, and so is a database that has migrations this build does not know.
public struct Migrator: Sendable {
    /// A problem with the migrations themselves (not the connection): each message says what to do.
    public struct Conflict: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// What a run did.
    public struct Report: Sendable {
        public var applied: [Migration]
        public var alreadyApplied: Int
    }

    /// A migration as recorded in `schema_migrations`.
    public struct Applied: Sendable {
        public var version: Int
        public var name: String
        public var checksum: String
        public var appliedAt: PostgresTimestamp
    }

    let connection: PostgresConnection
    let logger: Logger

    public init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Any constant works as long as every ciclo process agrees on it; this one spells "ciclo mig".
    static let lockKey = 0x6369_636c_6f20_6d69

    static let createHistory = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version      integer PRIMARY KEY,
            name         text NOT NULL,
            checksum     text NOT NULL,
            applied_at   timestamptz NOT NULL DEFAULT now(),
            execution_ms integer NOT NULL
        )
        """
    static let selectApplied = "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    static let insertApplied = """
        INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)
        """
    /// SHA-256 of every file in one round trip, computed by the server so no crypto library is needed.
    static let checksums = """
        SELECT encode(sha256(convert_to(f.sql, 'UTF8')), 'hex')
        FROM unnest($1::text[]) WITH ORDINALITY AS f(sql, n) ORDER BY f.n
        """

    /// Applies every pending migration and returns what it did.
    public func migrate(_ migrations: [Migration]) async throws -> Report {
        try await withLock {
            try await connection.query(Self.createHistory)
            let plan = try await self.plan(migrations)
            for (migration, checksum) in plan.pending {
                try await apply(migration, checksum: checksum)
            }
            return Report(applied: plan.pending.map(\.0), alreadyApplied: plan.applied.count)
        }
    }

    /// What is applied and what is pending, after the same checks `migrate` makes.
    public func status(_ migrations: [Migration]) async throws -> (applied: [Applied], pending: [Migration]) {
        try await withLock {
            try await connection.query(Self.createHistory)
            let plan = try await self.plan(migrations)
            return (plan.applied, plan.pending.map(\.0))
        }
    }

    private func plan(_ migrations: [Migration]) async throws -> (applied: [Applied], pending: [(Migration, String)]) {
        let applied = try await connection.query(Self.selectApplied).map { row in
            Applied(
                version: try row.decode(Int.self, at: 0), name: try row.decode(String.self, at: 1),
                checksum: try row.decode(String.self, at: 2), appliedAt: try row.decode(PostgresTimestamp.self, at: 3))
        }
        let sums = try await connection.query(Self.checksums, [migrations.map(\.sql)]).map {
            try $0.decode(String.self, at: 0)
        }
        let local = Dictionary(uniqueKeysWithValues: zip(migrations.map(\.version), zip(migrations, sums)))
        for record in applied {
            guard let (migration, checksum) = local[record.version] else {
                throw Conflict(description: "The database has migration \(record.version) (\(record.name)) that this build of ciclo does not have; run a ciclo at least as new as the one that applied it.")
            }
            if checksum != record.checksum {
                throw Conflict(description: "The migration \(migration.fileName) was edited after it was applied on \(record.appliedAt); restore the applied version and put the change in a new migration file.")
            }
        }
        let latest = applied.last?.version ?? Int.min
        let appliedVersions = Set(applied.map(\.version))
        let pending = zip(migrations, sums).filter { !appliedVersions.contains($0.0.version) }
        if let early = pending.first(where: { $0.0.version < latest }) {
            throw Conflict(description: "The migration \(early.0.fileName) is numbered before \(latest), which is already applied; renumber it after \(latest).")
        }
        return (applied, pending.map { ($0.0, $0.1) })
    }

    private func apply(_ migration: Migration, checksum: String) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        logger.info("applying migration", metadata: ["file": "\(migration.fileName)"])
        func record(_ conn: PostgresConnection) async throws {
            let elapsed = clock.now - start
            let ms = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            try await conn.query(Self.insertApplied, [migration.version, migration.name, checksum, ms])
        }
        do {
            if migration.runsInTransaction {
                try await connection.withTransaction { conn in
                    try await conn.executeScript(migration.sql)
                    try await record(conn)
                }
            } else {
                try await connection.executeScript(migration.sql)
                try await record(connection)
            }
        } catch let error as PostgresError where error.code == .server {
            var error = error
            error.message = "migration \(migration.fileName) failed: \(error.message)"
            throw error
        }
    }

    /// Holds the session-level advisory lock for the duration of `body`; a second `ciclo migrate` waits here.
    private func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
        do {
            let value = try await body()
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return value
        } catch {
            // If the connection is gone, the server has released the lock with the session.
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }
}
