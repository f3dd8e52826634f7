import CicloQueue
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite("ciclo queue depth, retry and discard")
struct QueueCommandTests {
    func run(_ arguments: [String], _ db: MigrationDatabase) async throws -> CicloRun {
        let run = try CicloRun.start(arguments, url: db.url)
        _ = await run.wait(timeout: .seconds(30))
        return run
    }

    /// A queue in a known shape: per channel, jobs due now, scheduled later, running and failed; deliveries in and
    /// out of the last minute.
    func seedKnownQueue(_ conn: PostgresConnection) async throws {
        let customers = try await Seed.customers(20, on: conn)
        try await Seed.jobs(for: Array(customers[0..<7]), prefix: "e", channel: "email", on: conn)
        try await Seed.jobs(for: Array(customers[7..<12]), prefix: "s", channel: "sms", on: conn)
        try await conn.query("INSERT INTO consents (customer_id, channel, granted) SELECT c, 'sms', true FROM unnest($1::int8[]) c",
                             [Array(customers[7..<12])])
        try await conn.query("INSERT INTO campaigns (key, name, kind, channel) VALUES ('winback', 'Win back', 'recurring', 'email')")
        try await conn.query("UPDATE send_jobs SET campaign_id = (SELECT id FROM campaigns) WHERE channel = 'email'")
        // email: 3 due now, 2 later, 1 running, 1 failed; sms: 2 due now, 1 later, 2 failed (one of them long ago).
        _ = try await conn.pipeline([
            .init("""
                UPDATE send_jobs SET run_at = now() + interval '1 hour'
                WHERE idempotency_key = ANY($1::text[])
                """, [["e-\(customers[3])", "e-\(customers[4])", "s-\(customers[9])"]]),
            .init("""
                UPDATE send_jobs SET state = 'running', lease_owner = 'w', lease_expires_at = now() + interval '1 minute',
                       attempts = 1 WHERE idempotency_key = $1
                """, ["e-\(customers[5])"]),
            .init("""
                UPDATE send_jobs SET state = 'failed', failed_at = now(), attempts = 5, last_error = 'provider 503'
                WHERE idempotency_key = ANY($1::text[])
                """, [["e-\(customers[6])", "s-\(customers[10])"]]),
            .init("""
                UPDATE send_jobs SET state = 'failed', failed_at = now() - interval '2 hours', attempts = 1,
                       last_error = 'invalid number' WHERE idempotency_key = $1
                """, ["s-\(customers[11])"]),
            .init("""
                INSERT INTO deliveries (job_id, idempotency_key, customer_id, channel, outcome, finished_at)
                SELECT g, 'done-' || g, $1, 'email', 'sent',
                       now() - (CASE WHEN g <= 30 THEN g ELSE g + 60 END || ' seconds')::interval
                FROM generate_series(1, 60) g
                """, [customers[19]]),
        ])
    }

    @Test("queue depth --json gives exact counts in its documented shape")
    func depthJSON() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await seedKnownQueue(conn)
        let run = try await self.run(["queue", "depth", "--json"], db)
        #expect(run.process.terminationStatus == 0, "stderr: \(run.stderr)")
        let depth = try JSONDecoder().decode(QueueDepth.self, from: Data(run.stdout.utf8))
        var cells: [String: Int] = [:]
        for count in depth.counts { cells[count.state + "/" + count.group] = count.count }
        let expected: [String: Int] = ["due/email": 5, "running/email": 1, "failed/email": 1, "due/sms": 3, "failed/sms": 2]
        #expect(cells == expected)
        let totals: [String: Int] = ["due": 8, "running": 1, "failed": 3]
        #expect(depth.totals == totals)
        #expect(depth.dueNow == 5)
        #expect(depth.scheduledLater == 3)
        #expect(depth.failedLastMinute == 2)
        #expect(depth.completedLastMinute == 30, "deliveries 1 to 30 seconds old, not the 91 to 120 second ones")
        #expect((depth.oldestDueAgeSeconds ?? -1) >= 0)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let keys: Set<String> = Set(object?.keys.map { $0 } ?? [])
        #expect(keys == [
            "generated_at", "grouped_by", "counts", "totals", "due_now", "scheduled_later", "oldest_due_age_seconds",
            "completed_last_minute", "failed_last_minute",
        ])

        let byCampaign = try await self.run(["queue", "depth", "--json", "--by", "campaign"], db)
        let grouped = try JSONDecoder().decode(QueueDepth.self, from: Data(byCampaign.stdout.utf8))
        #expect(grouped.counts.filter { $0.group == "winback" }.map(\.count).reduce(0, +) == 7)
        #expect(grouped.counts.filter { $0.group == "-" }.map(\.count).reduce(0, +) == 5)

        let table = try await self.run(["queue", "depth"], db)
        #expect(table.stdout.contains("due now 5 · scheduled later 3"))
        await conn.close()
        await db.drop()
    }

    @Test("ciclo retry: dry run moves nothing, a filter moves only matching failed jobs, which then complete")
    func retryCommand() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await seedKnownQueue(conn)

        let noFilter = try await run(["retry"], db)
        #expect(noFilter.process.terminationStatus == 64)
        #expect(noFilter.stderr.contains("--all"))
        let badSince = try await run(["retry", "--since", "yesterday"], db)
        #expect(badSince.process.terminationStatus == 64)

        let dry = try await run(["retry", "--error-like", "503", "--dry-run"], db)
        #expect(dry.stdout.contains("would retry 2 failed job(s)"), "stdout: \(dry.stdout)")
        #expect(try await conn.query("SELECT count(*)::int8 FROM send_jobs WHERE state = 'failed'").scalar(Int.self) == 3)

        let recent = try await run(["retry", "--since", "30m"], db)
        #expect(recent.stdout.contains("retried 2 failed job(s)"), "stdout: \(recent.stdout) stderr: \(recent.stderr)")
        let sms = try await run(["retry", "--channel", "sms"], db)
        #expect(sms.stdout.contains("retried 1 failed job(s)"))
        let states = try await conn.query("SELECT state, count(*)::int8 FROM send_jobs GROUP BY state ORDER BY state")
        #expect(try states.map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(Int.self, at: 1))" }
            == ["due=11", "running=1"], "the running job was not touched")

        // Due-now jobs complete; the scheduled-later ones and the leased one stay.
        let worker = try await run(["worker", "--transport", "null", "--drain"], db)
        #expect(worker.process.terminationStatus == 0)
        let left = try await conn.query("SELECT count(*)::int8 FROM send_jobs").scalar(Int.self)
        #expect(left == 4, "worker stderr: \(worker.stderr)")
        let retried = try await conn.query("""
            SELECT count(*)::int8 FROM deliveries WHERE outcome = 'sent' AND attempts = 1 AND idempotency_key LIKE 's-%'
            """).scalar(Int.self)
        #expect(retried == 4, "the two retried sms jobs and the two that were due were sent, attempts reset")
        await conn.close()
        await db.drop()
    }

    @Test("ciclo discard moves failed jobs to deliveries with their errors")
    func discardCommand() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await seedKnownQueue(conn)
        let run = try await self.run(["discard", "--campaign", "winback"], db)
        #expect(run.stdout.contains("discarded 1 failed job(s)"), "stdout: \(run.stdout) stderr: \(run.stderr)")
        let row = try await conn.query("SELECT outcome, reason FROM deliveries WHERE outcome = 'discarded'").single()
        #expect(try row.decode(String.self, at: 1) == "provider 503")
        let unknown = try await self.run(["discard", "--job", "999999"], db)
        #expect(unknown.stdout.contains("discarded 0 failed job(s)"))
        await conn.close()
        await db.drop()
    }
}

@Suite("Queue depth at scale")
struct QueueDepthPlanTests {
    @Test("queue depth reads the last minute of deliveries through its index, never the whole history")
    func depthNeverScansHistory() async throws {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        let customer = try await Seed.customers(1, on: conn)[0]
        try await conn.query("""
            INSERT INTO deliveries (job_id, idempotency_key, customer_id, channel, outcome, finished_at)
            SELECT g, 'old-' || g, $1, 'email', 'sent', now() - interval '30 days' + g * interval '1 second'
            FROM generate_series(1, 200000) g
            """, [customer])
        try await conn.executeScript("ANALYZE deliveries")
        let plan = try await conn.query("EXPLAIN (FORMAT TEXT) " + QueueDepth.summarySQL)
            .map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
        // deliveries is partitioned by month (schema 0011). The partitions that hold the history (DEFAULT here: a
        // fresh database has no partition for last month) are read through their finished_at index; an empty
        // partition may be planned as a sequential scan, which reads nothing.
        let holding = try await conn.query("SELECT DISTINCT tableoid::regclass::text FROM deliveries")
            .map { try $0.decode(String.self, at: 0) }
        #expect(!holding.isEmpty)
        for partition in holding {
            let reads = plan.split(separator: "\n").filter { $0.contains(" on \(partition) ") }
            #expect(!reads.isEmpty && reads.allSatisfy { $0.contains("Index") && $0.contains("finished_at") },
                    "\(partition) by its finished_at index; plan:\n\(plan)")
        }
        await conn.close()
        await db.drop()
    }
}
