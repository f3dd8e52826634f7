import CicloScheduler
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// Real `ciclo scheduler` processes against one database.
@Suite struct SchedulerProcessTests {
    static let definition = """
        {"key": "cycle", "name": "Cycle", "kind": "recurring", "channel": "email", "priority": 1, "holdout": 0.1,
         "starts_at": "2026-01-01T00:00:00Z",
         "segment": {"stage": {"in": ["New", "Active", "At-risk", "Churned", "Reactivated", "Nurture", "Convert"]}},
         "recurring": {"schedule": {"every": "1d"}, "cooldown_days": 21},
         "variants": [{"name": "A", "templates": {"en": {"subject": "A", "html": "<p>A</p>"}}},
                      {"name": "B", "templates": {"en": {"subject": "B", "html": "<p>B</p>"}}}]}
        """

    static func setUp(customers: Int) async throws -> (MigrationDatabase, PostgresConnection) {
        let db = try await MigrationDatabase.migrated()
        let conn = try await db.connect()
        try await Population.generate(customers, now: Date(), on: conn)
        try await conn.query("""
            INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition)
            VALUES ('cycle', 'Cycle', 'recurring', 'email', 'active', 1, 'cycle', $1::jsonb)
            """, [definition])
        return (db, conn)
    }

    static func count(_ sql: String, _ conn: PostgresConnection) async throws -> Int {
        try await conn.query(sql).first!.decode(at: 0)
    }

    @Test func twoSchedulersAtOnceEnqueueEverySendOnce() async throws {
        let (db, conn) = try await Self.setUp(customers: 5_000)
        defer { Task { await db.drop() } }
        let first = try CicloRun.start(["scheduler", "--tick", "0.2"], url: db.url)
        let second = try CicloRun.start(["scheduler", "--tick", "0.2"], url: db.url)
        defer { first.stop(); second.stop() }
        let expected = try await Self.count("""
            SELECT count(*) FROM customers c
            WHERE EXISTS (SELECT 1 FROM consents WHERE customer_id = c.id AND channel = 'email' AND granted)
              AND NOT EXISTS (SELECT 1 FROM suppressions WHERE customer_id = c.id AND channel = 'email')
            """, conn)
        let settled = try await eventually(.seconds(60)) {
            try await Self.count("SELECT count(*) FROM send_decisions WHERE outcome IN ('queued', 'holdout')", conn) == expected
        }
        #expect(settled)
        // Let both run a few more ticks: nothing more may be enqueued.
        try await Task.sleep(for: .seconds(1))
        let queued = try await Self.count("SELECT count(*) FROM send_decisions WHERE outcome = 'queued'", conn)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs", conn) == queued)
        #expect(try await Self.count("""
            SELECT count(*) FROM (SELECT customer_id FROM send_jobs GROUP BY customer_id, campaign_id HAVING count(*) > 1) t
            """, conn) == 0)
        // One of them led; the other waited.
        let leaders = [first, second].filter { $0.stderr.contains("leading the scheduler") }
        #expect(leaders.count == 1, "first: \(first.stderr.suffix(400)) second: \(second.stderr.suffix(400))")

        // The leader dies without a word: the other takes over and goes on deciding.
        let leader = leaders.first ?? first
        let follower = leader === first ? second : first
        leader.signal(SIGKILL)
        let tookOver = try await eventually(.seconds(30)) { follower.stderr.contains("leading the scheduler") }
        #expect(tookOver)
        #expect(follower.process.isRunning)

        follower.signal(SIGTERM)
        #expect(await follower.wait(timeout: .seconds(15)) == 0)
        await conn.close()
    }

    @Test func concurrentOncePassesDoNotDouble() async throws {
        let (db, conn) = try await Self.setUp(customers: 2_000)
        defer { Task { await db.drop() } }
        let runs = try (0..<3).map { _ in try CicloRun.start(["scheduler", "--once"], url: db.url) }
        for run in runs { #expect(await run.wait(timeout: .seconds(60)) == 0, "\(run.stderr.suffix(400))") }
        let queued = try await Self.count("SELECT count(*) FROM send_decisions WHERE outcome = 'queued'", conn)
        #expect(queued > 1_000)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs", conn) == queued)
        await conn.close()
    }

    @Test("ciclo campaign run: a recurring cycle runs on the next tick, then its schedule goes on; other kinds refused")
    func runCycleOutOfSchedule() async throws {
        let (db, conn) = try await Self.setUp(customers: 300)
        defer { Task { await db.drop() } }
        // The schedule's next slot is a day away: a tick now does nothing.
        let slot = Date().addingTimeInterval(86_400)
        try await conn.query("UPDATE campaigns SET next_run_at = $1 WHERE key = 'cycle'", [slot])
        let idle = try CicloRun.start(["scheduler", "--once"], url: db.url)
        #expect(await idle.wait(timeout: .seconds(60)) == 0, "\(idle.stderr.suffix(400))")
        #expect(try await Self.count("SELECT count(*) FROM send_decisions", conn) == 0)

        let run = try CicloRun.start(["campaign", "run", "cycle"], url: db.url)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.stderr)")
        #expect(run.stdout.contains("campaign cycle runs a cycle on the scheduler's next tick"), "\(run.stdout)")
        let tick = try CicloRun.start(["scheduler", "--once"], url: db.url)
        #expect(await tick.wait(timeout: .seconds(60)) == 0, "\(tick.stderr.suffix(400))")
        let queued = try await Self.count("SELECT count(*) FROM send_decisions WHERE outcome = 'queued'", conn)
        #expect(queued > 100)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs", conn) == queued)
        // The schedule continues at its next interval slot after now (every 1d from 2026-01-01), not at now again.
        let next: Date = try await conn.query("SELECT next_run_at FROM campaigns WHERE key = 'cycle'").first!.decode(at: 0)
        #expect(next > Date() && next <= Date().addingTimeInterval(86_400))
        // Running it again at once: the cycle's rules (cooldown) hold, nothing is sent twice.
        try await CycleRunner().runNow(key: "cycle", at: Date(), on: conn)
        let again = try CicloRun.start(["scheduler", "--once"], url: db.url)
        #expect(await again.wait(timeout: .seconds(60)) == 0)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs", conn) == queued)
        #expect(try await Self.count("SELECT count(*) FROM send_decisions WHERE outcome = 'cooldown'", conn) > 0)

        // Refusals name the problem and exit 65.
        try await conn.query("""
            INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition)
            VALUES ('flash', 'Flash', 'adhoc', 'email', 'active', 1, 'flash', '{}'::jsonb)
            """)
        for (key, message) in [("flash", "Campaign flash is of kind adhoc; only recurring cycles run out of schedule."),
                               ("nothing", "There is no campaign \"nothing\"")] {
            let refused = try CicloRun.start(["campaign", "run", key], url: db.url)
            #expect(await refused.wait(timeout: .seconds(30)) == 65)
            #expect(refused.stderr.contains(message), "\(refused.stderr)")
        }
        try await conn.query("UPDATE campaigns SET status = 'paused' WHERE key = 'cycle'")
        await #expect(throws: Launcher.Problem.self) { try await CycleRunner().runNow(key: "cycle", at: Date(), on: conn) }
        await conn.close()
    }

    @Test func launchAndWhy() async throws {
        let (db, conn) = try await Self.setUp(customers: 200)
        defer { Task { await db.drop() } }
        try await conn.query("""
            INSERT INTO campaigns (key, name, kind, channel, status, priority, salt, definition)
            VALUES ('flash', 'Flash sale', 'adhoc', 'email', 'active', 9, 'flash', $1::jsonb)
            """, ["""
            {"key": "flash", "name": "Flash sale", "kind": "adhoc", "channel": "email", "priority": 9,
             "segment": {"stage": {"in": ["Active"]}},
             "adhoc": {"expires_at": "2099-01-01T00:00:00Z"},
             "variants": [{"name": "A", "templates": {"en": {"subject": "Now", "html": "<p>Now</p>"}}}]}
            """])
        #expect(try await Launcher().launch(key: "flash", at: Date(), on: conn) == 1)
        await #expect(throws: Launcher.Problem.self) { try await Launcher().launch(key: "cycle", at: Date(), on: conn) }
        let once = try CicloRun.start(["scheduler", "--once"], url: db.url)
        #expect(await once.wait(timeout: .seconds(60)) == 0, "\(once.stderr.suffix(400))")
        let flash = try await Self.count("SELECT count(*) FROM send_jobs j JOIN campaigns k ON k.id = j.campaign_id WHERE k.key = 'flash'", conn)
        #expect(flash > 0)
        // A second tick does not launch it again.
        let again = try CicloRun.start(["scheduler", "--once"], url: db.url)
        #expect(await again.wait(timeout: .seconds(60)) == 0)
        #expect(try await Self.count("SELECT count(*) FROM send_jobs j JOIN campaigns k ON k.id = j.campaign_id WHERE k.key = 'flash'", conn) == flash)
        // A second launch from a machine whose clock is an hour behind the scheduler's is still enqueued, once.
        #expect(try await Launcher().launch(key: "flash", at: Date().addingTimeInterval(-3600), on: conn) == 2)
        for _ in 1...2 {
            let tick = try CicloRun.start(["scheduler", "--once"], url: db.url)
            #expect(await tick.wait(timeout: .seconds(60)) == 0, "\(tick.stderr.suffix(400))")
        }
        let occasions = try await conn.query("""
            SELECT (j.payload->>'occasion')::int8, count(*)::int8 FROM send_jobs j JOIN campaigns k ON k.id = j.campaign_id
            WHERE k.key = 'flash' GROUP BY 1 ORDER BY 1
            """)
        #expect(try occasions.map { try $0.decode(Int.self, at: 0) } == [1, 2])
        #expect(try occasions.map { try $0.decode(Int.self, at: 1) } == [flash, flash], "the same audience, once more")

        // why: a suppressed customer in the segment, and a queued one.
        let suppressed: String = try await conn.query("""
            SELECT c.external_id FROM customers c JOIN send_decisions d ON d.customer_id = c.id
            JOIN campaigns k ON k.id = d.campaign_id AND k.key = 'flash' WHERE d.outcome = 'no_consent' LIMIT 1
            """).first!.decode(at: 0)
        let why = try CicloRun.start(["why", "--customer", suppressed, "--campaign", "flash"], url: db.url)
        #expect(await why.wait(timeout: .seconds(30)) == 0)
        #expect(why.stdout.contains("occasion 1: no_consent"), "\(why.stdout)")
        #expect(why.stdout.contains("consent for email: not granted"))
        let unknown = try CicloRun.start(["why", "--customer", "nobody", "--campaign", "flash"], url: db.url)
        #expect(await unknown.wait(timeout: .seconds(30)) == 1)
        #expect(unknown.stderr.contains("No customer with external id \"nobody\""), "\(unknown.stderr)")
        await conn.close()
    }
}
