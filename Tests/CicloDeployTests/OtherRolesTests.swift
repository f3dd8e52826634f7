import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// ciclo_scheduler, ciclo_reporter and ciclo_analyst (schema/0015_roles.sql): each can do its process's work and
/// nothing else.
@Suite("Scheduler, reporter and analyst roles", .serialized)
struct OtherRolesTests {
    static let campaign = """
        {"key": "cycle", "name": "Cycle", "kind": "recurring", "channel": "email", "priority": 1, "holdout": 0.1,
         "starts_at": "2026-01-01T00:00:00Z",
         "segment": {"stage": {"in": ["New", "Active", "At-risk", "Churned", "Reactivated", "Nurture", "Convert"]}},
         "recurring": {"schedule": {"every": "1d"}, "cooldown_days": 21},
         "variants": [{"name": "A", "templates": {"en": {"subject": "A", "html": "<p>A</p>"}}}]}
        """

    /// The query of the KEDA trigger in deploy/kubernetes/worker-scaledobject.yaml, as KEDA will run it.
    static func kedaQuery() throws -> String {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/kubernetes/worker-scaledobject.yaml")
        let line = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("query:") }
        guard let line, let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: file.path])
        }
        return String(line[line.index(after: open)..<close])
    }

    @Test("the KEDA query, run as ciclo_analyst, counts the due and unclaimed jobs: ciclo queue depth's due_now")
    func kedaQueueDepth() async throws {
        try await RoleFixture.with { f in
            let ids = try await Seed.customers(10, on: f.owner)
            try await Seed.jobs(for: ids, on: f.owner)
            // Three scheduled for later, two claimed by a worker: five are due and waiting.
            try await f.owner.query("""
                UPDATE send_jobs SET run_at = now() + interval '1 hour' WHERE customer_id = ANY($1::int8[])
                """, [Array(ids.prefix(3))])
            try await f.owner.query("""
                UPDATE send_jobs SET state = 'running', lease_owner = 'w', lease_expires_at = now() + interval '1 minute'
                WHERE customer_id = ANY($1::int8[])
                """, [Array(ids.suffix(2))])
            let conn = try await f.connect(try await f.login(in: "ciclo_analyst"))
            defer { Task { await conn.close() } }
            let keda = try await conn.query(try Self.kedaQuery()).scalar(Int.self)
            let depth = try await QueueDepth.read(grouping: .channel, on: f.owner)
            #expect(keda == 5)
            #expect(keda == depth.dueNow)
        }
    }

    @Test("a login in ciclo_scheduler runs a real scheduler tick: lifecycle rules, decisions and jobs")
    func schedulerTickAsSchedulerRole() async throws {
        try await RoleFixture.with { f in
            try await Population.generate(2_000, now: Date(), eventsPerCustomer: 2, on: f.owner)
            try await f.owner.query("""
                INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition)
                VALUES ('cycle', 'Cycle', 'recurring', 'email', 'active', 1, 'cycle', $1::jsonb)
                """, [Self.campaign])
            let url = try await f.login(in: "ciclo_scheduler")
            let run = try CicloRun.start(["scheduler", "--once"], url: url, environment: ["CICLO_LOG_LEVEL": "debug"])
            defer { run.stop() }
            #expect(await run.wait(timeout: .seconds(90)) == 0, "stderr: \(run.stderr.suffix(2000))")
            #expect(!run.stderr.contains("permission denied"), "stderr: \(run.stderr.suffix(2000))")
            let written = try await f.owner.query("""
                SELECT (SELECT count(*) FROM send_decisions)::int8, (SELECT count(*) FROM send_jobs)::int8,
                       (SELECT applied_at IS NOT NULL FROM lifecycle_state)
                """).single()
            #expect(try written.decode(Int.self, at: 0) > 0)
            #expect(try written.decode(Int.self, at: 1) > 0)
            #expect(try written.decode(Bool.self, at: 2), "the lifecycle pass ran and recorded itself")

            let conn = try await f.connect(url)
            defer { Task { await conn.close() } }
            await expectRefused([
                "DELETE FROM customers", "UPDATE customers SET email = 'x@example.com'",
                "UPDATE campaigns SET status = 'paused'", "UPDATE campaigns SET definition = '{}'",
                "INSERT INTO settings (key, value) VALUES ('global_holdout', '{}')", "DELETE FROM segments",
                "UPDATE send_jobs SET state = 'failed'", "DELETE FROM deliveries", "SELECT * FROM responses",
                "INSERT INTO suppressions (customer_id, channel, reason) VALUES (1, 'sms', 'manual')",
                "CREATE TABLE scheduler_table (id int)", "DROP TABLE send_decisions",
            ], on: conn)
        }
    }

    @Test("ciclo_reporter records responses, webhook dedupe, suppressions and conversions, and touches nothing else")
    func reporterBoundaries() async throws {
        try await RoleFixture.with { f in
            let customer = try await Seed.customers(1, on: f.owner)[0]
            let conn = try await f.connect(try await f.login(in: "ciclo_reporter"))
            defer { Task { await conn.close() } }
            await expectAllowed([
                """
                INSERT INTO responses (idempotency_key, customer_id, kind, channel, occurred_at)
                VALUES ('k-1', \(customer), 'open', 'email', now())
                """,
                "INSERT INTO provider_events (provider, event_id) VALUES ('smtp', 'e-1') ON CONFLICT DO NOTHING",
                """
                INSERT INTO suppressions (customer_id, channel, reason) VALUES (\(customer), 'email', 'unsubscribed')
                ON CONFLICT (customer_id, channel) DO UPDATE SET reason = excluded.reason
                """,
                "INSERT INTO events (customer_id, kind, occurred_at) VALUES (\(customer), 'conversion', now())",
                "SELECT count(*) FROM deliveries", "SELECT count(*) FROM send_jobs WHERE state = 'due'",
            ], on: conn)
            await expectRefused([
                "DELETE FROM customers", "UPDATE customers SET email = 'x@example.com'", "DELETE FROM responses",
                "UPDATE deliveries SET outcome = 'sent'", "DELETE FROM deliveries", "UPDATE send_jobs SET state = 'due'",
                "DELETE FROM send_jobs", "UPDATE campaigns SET status = 'paused'", "DELETE FROM events",
                "SELECT * FROM settings", "CREATE TABLE reporter_table (id int)", "TRUNCATE responses",
            ], on: conn)
        }
    }

    @Test("ciclo_analyst reads every table, including one created after the migration, and writes none")
    func analystReadsOnly() async throws {
        try await RoleFixture.with { f in
            try await Seed.customers(3, on: f.owner)
            // A table a later migration creates: the default privileges of 0015 cover it.
            try await f.owner.query("CREATE TABLE later_rollups (day date PRIMARY KEY, sends int8)")
            let tables = try await f.owner.query("""
                SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1
                """).map { try $0.decode(String.self, at: 0) }
            #expect(tables.contains("send_jobs") && tables.contains("later_rollups") && tables.count > 20)
            let conn = try await f.connect(try await f.login(in: "ciclo_analyst"))
            defer { Task { await conn.close() } }
            // Table names come from pg_tables, quoted by format(): no text from outside the database.
            let quoted = try await f.owner.query("SELECT format('%I', t) FROM unnest($1::text[]) t", [tables])
                .map { try $0.decode(String.self, at: 0) }
            await expectAllowed(quoted.map { "SELECT * FROM \($0) LIMIT 1" }, on: conn)
            await expectRefused(quoted.flatMap {
                ["DELETE FROM \($0)", "INSERT INTO \($0) DEFAULT VALUES", "TRUNCATE \($0)"]
            }, on: conn)
            await expectRefused([
                "UPDATE customers SET email = 'x@example.com'", "CREATE TABLE analyst_table (id int)",
                "ALTER TABLE customers ADD COLUMN extra int",
            ], on: conn)
        }
    }
}
