import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// ciclo_worker (schema/0015_roles.sql) is enough for a real `ciclo worker` and no more.
@Suite("Worker role", .serialized)
struct WorkerRoleTests {
    static let tokenSecret = "role-test-token-secret-0123456789"
    static let variables = #"[{"name": "customer.first_name", "default": "cliente"}, {"name": "send.unsubscribe_url"}]"#
    static let parts = #"""
        {"subject": "Olá {{customer.first_name}}", "html": "<p>Olá {{customer.first_name}}</p><p><a href=\"{{send.unsubscribe_url}}\">sair</a></p>"}
        """#

    /// An active campaign `key` with an email template, `good` customers who can receive it, one suppressed and one
    /// whose address is unusable; every one of them gets a due job. Returns the campaign id.
    @discardableResult
    static func seed(_ f: RoleFixture, key: String, good: Int) async throws -> Int64 {
        let campaign = try await f.owner.query("""
            INSERT INTO campaigns (key, name, kind, channel, status) VALUES ($1, 'Roles', 'adhoc', 'email', 'active')
            RETURNING id
            """, [key]).scalar(Int64.self)
        try await f.owner.query("""
            INSERT INTO message_templates (campaign_id, variant, version, locale, channel, parts, variables)
            VALUES ($1, 'A', 1, 'en', 'email', $2::jsonb, $3::jsonb)
            """, [campaign, parts, variables])
        let ids = try await Seed.customers(good + 2, on: f.owner)
        try await f.owner.query("INSERT INTO suppressions (customer_id, channel, reason) VALUES ($1, 'email', 'manual')",
                                [ids[good]])
        try await f.owner.query("UPDATE customers SET email = 'not an address' WHERE id = $1", [ids[good + 1]])
        try await SendQueue().enqueue(ids.map {
            NewJob(idempotencyKey: "\(key)-\($0)", campaignID: campaign, customerID: $0, channel: "email",
                   payload: JSONB(#"{"variant": "A"}"#))
        }, on: f.owner)
        return campaign
    }

    @Test("a login in ciclo_worker renders, sends, suppresses and fails jobs through a real worker, all recorded")
    func workerDrainsAsWorkerRole() async throws {
        try await RoleFixture.with { f in
            try await Self.seed(f, key: "roles", good: 5)
            let url = try await f.login(in: "ciclo_worker")
            let outbox = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: outbox) }
            let run = try CicloRun.start(
                ["worker", "--transport", "file", "--outbox", outbox.path, "--drain", "--campaign", "roles"], url: url,
                environment: ["CICLO_TOKEN_SECRET": Self.tokenSecret, "CICLO_LOG_LEVEL": "debug",
                              "CICLO_EMAIL_FROM": "Loja <ofertas@loja.example>"])
            defer { run.stop() }
            #expect(await run.wait(timeout: .seconds(60)) == 0, "stderr: \(run.stderr.suffix(2000))")
            #expect(!run.stderr.contains("permission denied"), "stderr: \(run.stderr.suffix(2000))")
            let outcomes = try await f.owner.query("""
                SELECT outcome || coalesce(':' || reason, ''), count(*)::int8 FROM deliveries GROUP BY 1 ORDER BY 1
                """).map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(Int.self, at: 1))" }
            let failed = try await f.owner.query("SELECT state, coalesce(last_error, '') FROM send_jobs").map {
                (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1))
            }
            #expect(outcomes == ["sent=5", "suppressed:suppressed_manual=1"], "still queued: \(failed)")
            #expect(failed.count == 1 && failed[0].0 == "failed", "left in the queue: \(failed)")
            let written = (try? FileManager.default.contentsOfDirectory(atPath: outbox.appendingPathComponent("email").path)) ?? []
            #expect(written.filter { $0.hasSuffix(".eml") }.count == 5)
        }
    }

    @Test("as ciclo_worker the reaper, heartbeats and the release at shutdown work")
    func leasesAsWorkerRole() async throws {
        try await RoleFixture.with { f in
            let ids = try await Seed.customers(3, on: f.owner)
            try await Seed.jobs(for: Array(ids.prefix(2)), on: f.owner)
            // A job a dead worker held: its lease ran out a minute ago.
            try await f.owner.query("INSERT INTO send_keys (idempotency_key) VALUES ('orphan')")
            try await f.owner.query("""
                INSERT INTO send_jobs (idempotency_key, customer_id, channel, state, attempts, lease_owner,
                                       lease_expires_at)
                VALUES ('orphan', $1, 'email', 'running', 1, 'dead-worker', now() - interval '1 minute')
                """, [ids[2]])
            let url = try await f.login(in: "ciclo_worker")
            // Jobs that work for a minute under a 3 s lease: held only by heartbeats (every second).
            let run = try CicloRun.start(
                ["worker", "--transport", "null", "--work-ms", "60000", "--lease", "3", "--concurrency", "3",
                 "--shutdown-timeout", "0"], url: url, environment: ["CICLO_LOG_LEVEL": "debug"])
            defer { run.stop() }
            let allHeld = try await eventually(.seconds(20)) {
                try await f.owner.query("""
                    SELECT count(*) = 3 FROM send_jobs WHERE state = 'running' AND lease_owner <> 'dead-worker'
                    """).scalar(Bool.self)
            }
            #expect(allHeld, "stderr: \(run.stderr.suffix(1500))")
            try await Task.sleep(for: .seconds(4))
            // Past the first 3 s lease, every job is still held: the heartbeats renewed them.
            let renewed = try await f.owner.query("""
                SELECT count(*)::int8 FROM send_jobs WHERE state = 'running' AND lease_expires_at > now()
                """).scalar(Int.self)
            #expect(renewed == 3)
            let reaped = try await f.owner.query("""
                SELECT errors->0->>'error' FROM send_jobs WHERE idempotency_key = 'orphan'
                """).scalar(String.self)
            #expect(reaped.hasPrefix("lease expired: worker dead-worker"))
            run.signal(SIGTERM)
            #expect(await run.wait(timeout: .seconds(15)) == 0, "stderr: \(run.stderr.suffix(1500))")
            #expect(!run.stderr.contains("permission denied"), "stderr: \(run.stderr.suffix(2000))")
            // Released without counting the attempt: the orphan keeps the one its dead worker used.
            let state = try await f.owner.query("""
                SELECT count(*) FILTER (WHERE state = 'due')::int8, sum(attempts)::int8 FROM send_jobs
                """).single()
            #expect(try state.decode(Int.self, at: 0) == 3)
            #expect(try state.decode(Int.self, at: 1) == 1)
        }
    }

    @Test("ciclo_worker cannot delete customers, enqueue, re-target a job, read or write what it does not need, or change the schema")
    func workerBoundaries() async throws {
        try await RoleFixture.with { f in
            try await Self.seed(f, key: "bounds", good: 1)
            let conn = try await f.connect(try await f.login(in: "ciclo_worker"))
            defer { Task { await conn.close() } }
            // What it needs works, so the refusals below are about privilege and not a broken connection.
            await expectAllowed([
                "SELECT count(*) FROM consents", "SELECT job_id FROM deliveries",
                "SELECT count(*) FROM message_templates",
                "UPDATE send_jobs SET lease_expires_at = lease_expires_at WHERE false",
            ], on: conn)
            await expectRefused([
                "DELETE FROM customers", "UPDATE customers SET email = 'x@example.com'",
                "INSERT INTO customers (external_id) VALUES ('intruder')",
                "INSERT INTO send_keys (idempotency_key) VALUES ('forged')",
                "INSERT INTO send_jobs (idempotency_key, customer_id, channel) VALUES ('forged', 1, 'email')",
                "UPDATE send_jobs SET customer_id = customer_id", "UPDATE send_jobs SET payload = '{}'",
                "UPDATE send_jobs SET idempotency_key = idempotency_key", "UPDATE send_jobs SET channel = 'sms'",
                "SELECT * FROM deliveries", "UPDATE deliveries SET outcome = 'sent'", "DELETE FROM deliveries",
                "SELECT * FROM events", "INSERT INTO events (customer_id, kind, occurred_at) VALUES (1, 'x', now())",
                "SELECT * FROM responses", "SELECT * FROM send_decisions", "SELECT * FROM settings",
                "SELECT * FROM schema_migrations", "SELECT * FROM send_keys",
                "INSERT INTO suppressions (customer_id, channel, reason) VALUES (1, 'sms', 'manual')",
                "DELETE FROM suppressions", "UPDATE consents SET granted = true",
                "UPDATE campaigns SET status = 'paused'", "DELETE FROM message_templates",
                "CREATE TABLE worker_table (id int)", "ALTER TABLE send_jobs ADD COLUMN extra int",
                "DROP TABLE send_jobs", "TRUNCATE send_jobs", "CREATE INDEX ON send_jobs (created_at)",
                "CREATE SCHEMA worker_schema", "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            ], on: conn)
        }
    }
}
