import CicloSchema
import CicloTestSupport
import Foundation
import Postgres

/// Databases for the partitioning tests: one at the schema before 0011 with rows in the three raw tables, then
/// migrated to the end; or a fresh migrated one.
struct PartitionFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection

    /// The times the rows are written at, in days from now: the current month, one kept by a 60-day retention,
    /// two dropped by it, and a future one beyond the months created ahead (DEFAULT).
    static let offsets: [Double] = [0, -40, -100, -150, 160]
    /// Before every month the migration creates (it goes back at most 36 months): DEFAULT.
    static let ancient = "2015-06-01 12:00:00+00"

    static func fresh() async throws -> PartitionFixture {
        let db = try await MigrationDatabase.migrated()
        return PartitionFixture(db: db, conn: try await db.connect())
    }

    /// A database migrated up to 0010 only.
    static func beforePartitioning() async throws -> PartitionFixture {
        let scratch = try ScratchSchema()
        defer { scratch.remove() }
        for file in try FileManager.default.contentsOfDirectory(atPath: scratch.directory.path)
        where (Int(file.prefix(4)) ?? 0) >= 11 {
            try FileManager.default.removeItem(at: scratch.directory.appendingPathComponent(file))
        }
        let db = try await MigrationDatabase.create()
        let conn = try await db.connect()
        _ = try await Migrator(connection: conn, logger: MigrationDatabase.logger)
            .migrate(try MigrationLoader.load(from: scratch.directory))
        return PartitionFixture(db: db, conn: conn)
    }

    /// Seeded before 0011, then migrated to the end: months from 36 back to 3 ahead, rows in DEFAULT.
    static func migratedWithRows() async throws -> PartitionFixture {
        let fixture = try await beforePartitioning()
        try await fixture.seed()
        try await fixture.migrateAll()
        return fixture
    }

    /// Applies every migration in schema/.
    func migrateAll() async throws {
        _ = try await Migrator(connection: conn, logger: MigrationDatabase.logger)
            .migrate(try MigrationLoader.load(from: MigrationDatabase.schemaDirectory))
    }

    /// Three customers, and in each raw table one row per offset plus one in 2015; an insert rolled back on each
    /// table leaves a gap at the end of its identity sequence.
    func seed() async throws {
        try await conn.query("INSERT INTO customers (external_id) VALUES ('c1'), ('c2'), ('c3')")
        for (n, days) in Self.offsets.enumerated() {
            try await insertRows(at: "now() + \(days) * interval '1 day'", tag: "r\(n)")
        }
        try await insertRows(at: "'\(Self.ancient)'::timestamptz", tag: "ancient")
        _ = try? await conn.withTransaction { conn in
            try await insertRows(at: "now()", tag: "rolled-back", on: conn)
            throw CancellationError()
        }
    }

    func insertRows(at time: String, tag: String, on conn: PostgresConnection? = nil) async throws {
        let conn = conn ?? self.conn
        let customer = "(SELECT min(id) FROM customers)"
        try await conn.query("""
            INSERT INTO events (customer_id, kind, payload, occurred_at, source_id)
            VALUES (\(customer), 'login', jsonb_build_object('tag', $1::text), \(time), $1)
            """, [tag])
        try await conn.query("""
            INSERT INTO deliveries (job_id, idempotency_key, customer_id, channel, outcome, finished_at)
            VALUES (1, $1, \(customer), 'email', 'sent', \(time))
            """, [tag])
        try await conn.query("""
            INSERT INTO responses (idempotency_key, customer_id, kind, occurred_at)
            VALUES ($1, \(customer), 'open', \(time))
            """, [tag])
    }

    /// The columns 0001-0009 gave each table, in order: what must survive the copy unchanged.
    static let columns = [
        "events": "id, customer_id, kind, payload, occurred_at, received_at, source_id",
        "deliveries": """
            id, job_id, idempotency_key, campaign_id, customer_id, channel, outcome, reason, attempts, errors,
            provider_message_id, variant, finished_at
            """,
        "responses": "id, idempotency_key, customer_id, campaign_id, kind, provider_event_id, data, occurred_at, received_at",
    ]

    /// Row count and an MD5 of every row's text, in id order.
    func fingerprint(_ table: String) async throws -> String {
        // The table name comes from the fixed dictionary above, never from input.
        try await conn.query("""
            SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t.id)), '-')
            FROM (SELECT \(Self.columns[table]!) FROM \(table)) t
            """).scalar(String.self)
    }

    /// Each partition with its row count, for before-and-after comparisons.
    func layout() async throws -> [String] {
        try await conn.query("""
            SELECT c.relname || '=' || (xpath('/row/n/text()',
                   query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent IN ('events'::regclass, 'deliveries'::regclass, 'responses'::regclass)
            ORDER BY c.relname
            """).map { try $0.decode(String.self, at: 0) }
    }

    /// The partition holding each row of `table`, by tag (the events' payload tag, the others' idempotency key).
    func partitions(of table: String) async throws -> [String: String] {
        let tag = table == "events" ? "payload->>'tag'" : "idempotency_key"
        var result: [String: String] = [:]
        for row in try await conn.query("SELECT \(tag), tableoid::regclass::text FROM \(table)") {
            result[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return result
    }

    /// The monthly partition name for a time `days` from now.
    static func monthPartition(_ table: String, days: Double) -> String {
        name(table, utc.dateComponents([.year, .month], from: Date().addingTimeInterval(days * 86_400)))
    }

    /// The monthly partition name for the UTC month `monthsFromNow` after the current one.
    static func monthPartition(_ table: String, monthsFromNow: Int) -> String {
        let first = utc.date(from: utc.dateComponents([.year, .month], from: Date()))!
        return name(table, utc.dateComponents([.year, .month], from: utc.date(byAdding: .month, value: monthsFromNow, to: first)!))
    }

    private static func name(_ table: String, _ parts: DateComponents) -> String {
        "\(table)_p\(parts.year!)_" + (parts.month! < 10 ? "0" : "") + "\(parts.month!)"
    }

    private static var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    func finish() async {
        await conn.close()
        await db.drop()
    }
}
