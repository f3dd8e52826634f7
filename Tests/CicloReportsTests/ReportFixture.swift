import CicloReports
import CicloTestSupport
import Foundation
import Logging
import Postgres
import Testing

/// A fresh migrated database with raw outcomes written straight into it by SQL, as the worker, the scheduler and
/// the reporter's HTTP side would write them, and `ciclo aggregate` / `ciclo report` run as real processes on it.
struct ReportFixture {
    let db: MigrationDatabase
    let conn: PostgresConnection
    static let logger = Logger(label: "ciclo.tests.reports")

    static func make() async throws -> ReportFixture {
        let db = try await MigrationDatabase.migrated()
        return ReportFixture(db: db, conn: try await db.connect())
    }

    /// Runs `body` on a fresh fixture and drops its database afterwards, whether it passed or threw.
    static func with(_ body: (ReportFixture) async throws -> Void) async throws {
        let f = try await make()
        do {
            try await body(f)
        } catch {
            await f.close()
            throw error
        }
        await f.close()
    }

    func close() async {
        await conn.close()
        await db.drop()
    }

    /// `count` customers named `prefix`1..count in `stage`, with email consent; returns the first id.
    @discardableResult
    func customers(_ count: Int, prefix: String = "c", stage: String = "active") async throws -> Int64 {
        try await conn.query(
            """
            WITH made AS (
                INSERT INTO customers (external_id, email, stage, last_seen_at)
                SELECT $1 || g, $1 || g || '@example.com', $3, now() FROM generate_series(1, $2::int4) g
                RETURNING id
            ), consent AS (
                INSERT INTO consents (customer_id, channel, granted) SELECT id, 'email', true FROM made
            )
            SELECT min(id) FROM made
            """, [prefix, count, stage]
        ).scalar(Int64.self)
    }

    /// A campaign row; returns its id.
    @discardableResult
    func campaign(_ key: String, kind: String = "recurring", stage: String? = "active", attributionDays: Int = 7)
        async throws -> Int64
    {
        try await conn.query(
            """
            INSERT INTO campaigns (key, name, kind, channel, status, stage, attribution_days)
            VALUES ($1, $1, $2, 'email', 'active', $3, $4) RETURNING id
            """, [key, kind, stage, attributionDays]
        ).scalar(Int64.self)
    }

    /// Sent deliveries to customers firstCustomer ..< firstCustomer + count, keys `key`-n, at `at`.
    func sends(
        campaign: Int64, key: String, firstCustomer: Int64, count: Int, at: String, variant: String = "A",
        stage: String = "active", outcome: String = "sent"
    ) async throws {
        try await conn.query(
            """
            INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, variant,
                                    stage, finished_at)
            SELECT g, $2 || '-' || g, $1, $3::int8 + g - 1, 'email', $7, $5, $6, $4::timestamptz
            FROM generate_series(1, $8::int4) g
            """, [campaign, key, firstCustomer, at, variant, stage, outcome, count])
    }

    /// Holdout decisions (`outcome` holdout or global_holdout) for customers firstCustomer ..< firstCustomer +
    /// count, due at `at`, keys `key`:`outcome`:n.
    func holdouts(
        campaign: Int64, key: String, firstCustomer: Int64, count: Int, at: String, variant: String = "A",
        outcome: String = "holdout"
    ) async throws {
        try await conn.query(
            """
            INSERT INTO send_decisions (campaign_id, customer_id, occasion, channel, outcome, variant, offer_family,
                                        marketing, due_at, decided_at, idempotency_key, stage)
            SELECT $1, $3::int8 + g - 1, 1, 'email', $7, $5, $2, true, $4::timestamptz, $4::timestamptz,
                   $2 || ':' || $7 || ':' || g, 'active'
            FROM generate_series(1, $6::int4) g
            """, [campaign, key, firstCustomer, at, variant, count, outcome])
    }

    /// One response per send `key`-n for n in 1...count (every `every`-th send), `copies` times each.
    func responses(
        campaign: Int64, key: String, kind: String, count: Int, every: Int = 1, machine: Bool = false,
        at: String, copies: Int = 1
    ) async throws {
        try await conn.query(
            """
            INSERT INTO responses (idempotency_key, campaign_id, kind, channel, machine, occurred_at)
            SELECT $2 || '-' || g, $1, $3, 'email', $4, $5::timestamptz
            FROM generate_series(1, $6::int4) g, generate_series(1, $8::int4) c
            WHERE g % $7::int4 = 0
            """, [campaign, key, kind, machine, at, count, every, copies])
    }

    /// An event for a customer.
    func event(customer: Int64, kind: String, at: String, amount: Double? = nil) async throws {
        try await conn.query(
            """
            INSERT INTO events (customer_id, kind, payload, occurred_at)
            VALUES ($1, $2, CASE WHEN $3::float8 IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('amount', $3::float8) END,
                    $4::timestamptz)
            """, [customer, kind, amount, at])
    }

    /// A purchase of `amount` by every `every`-th customer of firstCustomer ..< firstCustomer + count, at `at`.
    func purchases(firstCustomer: Int64, count: Int, every: Int, at: String, amount: Int = 10) async throws {
        try await conn.query(
            """
            INSERT INTO events (customer_id, kind, payload, occurred_at)
            SELECT $1::int8 + g - 1, 'purchase', jsonb_build_object('amount', $5::int4), $2::timestamptz
            FROM generate_series(1, $3::int4) g WHERE g % $4::int4 = 0
            """, [firstCustomer, at, count, every, amount])
    }

    /// The figures of every rollup, summed: (sent, delivered, opens, machine opens, clicks, conversions).
    func rollupTotals() async throws -> [Int] {
        let row = try await conn.query(
            """
            SELECT coalesce(sum(sent), 0)::int8, coalesce(sum(delivered), 0)::int8, coalesce(sum(opens), 0)::int8,
                   coalesce(sum(machine_opens), 0)::int8, coalesce(sum(clicks), 0)::int8, coalesce(sum(conversions), 0)::int8
            FROM report_rollups
            """
        ).single()
        return try (0..<6).map { try row.decode(Int.self, at: $0) }
    }

    /// Runs `ciclo` to the end and returns (status, stdout, stderr). The default outlasts `aggregate --once`'s own
    /// wait for older transactions (300 s): another test's long transaction on the same server delays the fold.
    func ciclo(_ arguments: [String], timeout: Duration = .seconds(330)) async throws -> (Int32, String, String) {
        let run = try CicloRun.start(arguments, url: db.url)
        defer { run.stop() }
        let status = try #require(await run.wait(timeout: timeout), "ciclo \(arguments) did not finish")
        return (status, run.stdout, run.stderr)
    }

    /// `ciclo report --format json` decoded.
    func report(_ arguments: [String] = []) async throws -> ReportJSON {
        let (status, out, err) = try await ciclo(["report", "--format", "json"] + arguments)
        #expect(status == 0, "ciclo report failed: \(err)")
        return try JSONDecoder().decode(ReportJSON.self, from: Data(out.utf8))
    }

    /// `ciclo report --verify`: (matches, output).
    func verify() async throws -> (Bool, String) {
        let (status, out, err) = try await ciclo(["report", "--verify"])
        #expect(status == 0 || status == 1, "ciclo report --verify failed: \(err)")
        return (status == 0 && out.contains("match: every rollup"), out + err)
    }

    func scalar(_ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await conn.query(sql, binds).scalar(Int.self)
    }
}

/// The parts of the JSON report the tests read.
struct ReportJSON: Decodable {
    struct Line: Decodable {
        var campaign: String
        var variant: String?
        var stage: String?
        var total: Bool
        var figures: Figures
        var kpis: KPIs
    }
    var lines: [Line]

    /// The campaign's total line (its only line when it has one).
    func campaign(_ key: String) throws -> Line {
        let mine = lines.filter { $0.campaign == key }
        return try #require(mine.count == 1 ? mine.first : mine.first(where: \.total), "no line for \(key)")
    }
}
