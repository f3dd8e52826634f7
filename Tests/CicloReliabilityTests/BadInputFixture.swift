import CicloTestSupport
import Foundation
import Postgres

/// A migrated database, a scratch folder and a few customers, for the bad-input and security suites.
struct AttackFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection
    let folder: URL

    static func with(_ body: (AttackFixture) async throws -> Void) async throws {
        let db = try await MigrationDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ciclo-attack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fixture = AttackFixture(db: db, conn: try await db.connect(), folder: folder)
        var failure: (any Error)?
        do {
            try await fixture.conn.executeScript(Self.seedSQL)
            try await body(fixture)
        } catch { failure = error }
        await fixture.conn.close()
        await db.drop()
        try? FileManager.default.removeItem(at: folder)
        if let failure { throw failure }
    }

    /// Three customers (one gold), declared attributes of every type, and an events row: enough for segments to
    /// select something and imports to update something.
    static let seedSQL = """
        INSERT INTO customer_attributes (name, type) VALUES
            ('tier', 'text'), ('score', 'number'), ('vip', 'boolean'), ('joined', 'date'), ('tags', 'list');
        INSERT INTO customers (external_id, email, stage, persona, locale, timezone, attributes)
        VALUES ('base-1', 'a@example.com', 'Active', 'b2c-loyal', 'pt', 'Europe/Lisbon', '{"tier": "gold", "score": 5}'),
               ('base-2', 'b@example.com', 'New', 'b2b-buyer', 'it', 'Europe/Rome', '{"tier": "silver"}'),
               ('base-3', 'c@example.com', 'Churned', 'b2c-loyal', 'en', 'UTC', '{}');
        INSERT INTO consents (customer_id, channel, granted, source) SELECT id, 'email', true, 'seed' FROM customers;
        INSERT INTO events (customer_id, kind, payload, occurred_at)
        SELECT id, 'deposit', '{"amount": 20}', now() - interval '1 day' FROM customers;
        """

    /// Row counts of every table an input could write to, to compare before and after a refused input.
    static let countsSQL = """
        SELECT (SELECT count(*) FROM customers)::int8, (SELECT count(*) FROM consents)::int8,
               (SELECT count(*) FROM events)::int8, (SELECT count(*) FROM segments)::int8,
               (SELECT count(*) FROM campaigns)::int8, (SELECT count(*) FROM message_templates)::int8,
               (SELECT count(*) FROM responses)::int8, (SELECT count(*) FROM suppressions)::int8,
               (SELECT count(*) FROM provider_events)::int8, (SELECT count(*) FROM customer_attributes)::int8
        """
    static let countNames = [
        "customers", "consents", "events", "segments", "campaigns", "message_templates", "responses", "suppressions",
        "provider_events", "customer_attributes",
    ]

    func counts() async throws -> [String: Int] {
        let row = try await conn.query(Self.countsSQL).single()
        var counts: [String: Int] = [:]
        for (index, name) in Self.countNames.enumerated() { counts[name] = try row.decode(Int.self, at: index) }
        return counts
    }

    /// Tables whose row count changed between `before` and `after`, as "name: a -> b".
    static func changes(_ before: [String: Int], _ after: [String: Int]) -> [String] {
        countNames.compactMap { before[$0] == after[$0] ? nil : "\($0): \(before[$0] ?? -1) -> \(after[$0] ?? -1)" }
    }

    /// Writes `text` (or raw bytes) to a fresh file in the scratch folder; returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent("\(UUID().uuidString.prefix(8))-\(name)")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// The table names in the public schema: an injection that dropped or created one shows here.
    func tables() async throws -> [String] {
        try await conn.query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).map { try $0.decode(String.self, at: 0) }
    }
}

/// The numbers of an import's summary line (`customers: 3 read, 1 inserted, 1 updated, 1 rejected`).
struct ImportSummary {
    var read, inserted, second, rejected: Int

    init?(_ stdout: String) {
        guard let match = stdout.firstMatch(of: /: (\d+) read, (\d+) inserted, (\d+) [a-z ]+, (\d+) rejected/),
            let read = Int(match.1), let inserted = Int(match.2), let second = Int(match.3),
            let rejected = Int(match.4)
        else { return nil }
        (self.read, self.inserted, self.second, self.rejected) = (read, inserted, second, rejected)
    }
}
