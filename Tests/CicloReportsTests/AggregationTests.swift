import CicloReports
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite(.serialized) struct AggregationTests {
    /// 100,000 sends with their responses and purchases: 363,333 raw rows.
    static func load(_ f: ReportFixture, key: String = "bulk", customers: Int = 100_000) async throws -> Int64 {
        let first = try await f.customers(customers, prefix: key)
        let campaign = try await f.campaign(key)
        try await f.sends(
            campaign: campaign, key: key, firstCustomer: first, count: customers, at: "2026-03-01T10:00:00Z")
        try await f.responses(
            campaign: campaign, key: key, kind: "delivered", count: customers, at: "2026-03-01T10:01:00Z")
        // Every second send opened twice (counted once), every third by a privacy proxy, every fifth clicked.
        try await f.responses(
            campaign: campaign, key: key, kind: "open", count: customers, every: 2,
            at: "2026-03-01T11:00:00Z", copies: 2)
        try await f.responses(
            campaign: campaign, key: key, kind: "open", count: customers, every: 3, machine: true,
            at: "2026-03-01T10:02:00Z")
        try await f.responses(
            campaign: campaign, key: key, kind: "click", count: customers, every: 5,
            at: "2026-03-01T12:00:00Z")
        try await f.purchases(firstCustomer: first, count: customers, every: 10, at: "2026-03-02T10:00:00Z")
        return campaign
    }

    static func expected(_ n: Int) -> [Int] { [n, n, n / 2, n / 3, n / 5, n / 10] }

    /// `ciclo aggregate` killed with SIGKILL in the middle of a large fold, then run again: every figure is exact
    /// and `ciclo report --verify` matches.
    @Test func killedAggregatorResumesExactly() async throws {
        try await ReportFixture.with { f in
            _ = try await Self.load(f)
            let raw = try await f.scalar(
                "SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM responses) + (SELECT count(*) FROM events)"
            )
            #expect(raw == 363_333)
            let run = try CicloRun.start(["aggregate", "--once", "--chunk", "2000"], url: f.db.url)
            defer { run.stop() }
            // Kill it once a fifth of the rows are folded, well before the end. It may first wait up to 300 s for
            // other tests' transactions to end (`--wait`).
            let deadline = ContinuousClock.now + .seconds(330)
            var folded = 0
            while folded < raw / 5, ContinuousClock.now < deadline, run.process.isRunning {
                try await Task.sleep(for: .milliseconds(20))
                folded = try await f.scalar("SELECT sum(folded)::int8 FROM report_cursors")
            }
            #expect(run.process.isRunning, "the fold ended before it could be killed: \(run.stderr)")
            run.signal(SIGKILL)
            #expect(await run.wait(timeout: .seconds(10)) != nil)
            let atKill = try await f.scalar("SELECT sum(folded)::int8 FROM report_cursors")
            #expect(atKill > 0 && atKill < raw, "killed at \(atKill) of \(raw)")
            #expect(try await f.rollupTotals() != Self.expected(100_000))

            let (status, _, err) = try await f.ciclo(
                ["aggregate", "--once", "--chunk", "2000"], timeout: .seconds(300))
            #expect(status == 0, "\(err)")
            #expect(try await f.scalar("SELECT sum(folded)::int8 FROM report_cursors") == raw)
            #expect(try await f.rollupTotals() == Self.expected(100_000))
            let (matches, output) = try await f.verify()
            #expect(matches, "\(output)")
        }
    }

    /// Two aggregators at once, while more outcomes are written, count nothing twice and miss nothing.
    @Test func twoAggregatorsAtOnceCountEverythingOnce() async throws {
        try await ReportFixture.with { f in
            _ = try await Self.load(f, key: "one", customers: 50_000)
            let a = try CicloRun.start(["aggregate", "--once", "--chunk", "1500"], url: f.db.url)
            let b = try CicloRun.start(["aggregate", "--once", "--chunk", "1500"], url: f.db.url)
            defer {
                a.stop()
                b.stop()
            }
            // Written while they fold.
            _ = try await Self.load(f, key: "two", customers: 30_000)
            #expect(await a.wait(timeout: .seconds(300)) == 0, "\(a.stderr)")
            #expect(await b.wait(timeout: .seconds(300)) == 0, "\(b.stderr)")
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            let expected = zip(Self.expected(50_000), Self.expected(30_000)).map { $0 + $1 }
            #expect(try await f.rollupTotals() == expected)
            let (matches, output) = try await f.verify()
            #expect(matches, "\(output)")
        }
    }

    /// A transaction that took its id first but commits last is not skipped: identity order is not commit order.
    @Test func lateCommitIsFoldedOnce() async throws {
        try await ReportFixture.with { f in
            let other = try await f.db.connect()
            defer { Task { await other.close() } }
            let first = try await f.customers(2)
            let campaign = try await f.campaign("late")
            let aggregator = Aggregator(chunk: 100, logger: ReportFixture.logger)
            try await other.withTransaction { other in
                // Draws the lower id and the lower transaction id, and stays open.
                try await other.query(
                    """
                    INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, finished_at)
                    VALUES (1, 'slow', $1, $2, 'email', 'sent', '2026-03-01T10:00:00Z')
                    """, [campaign, first])
                try await f.sends(
                    campaign: campaign, key: "fast", firstCustomer: first + 1, count: 1,
                    at: "2026-03-01T10:00:00Z")
                _ = try await aggregator.pass(on: f.conn)
                // The open transaction holds the horizon: nothing past it is folded yet, nothing is skipped.
                #expect(try await f.rollupTotals()[0] == 0)
            }
            // Other tests' transactions on the same server may hold the horizon too: wait them out.
            _ = try await aggregator.catchUp(timeout: .seconds(120), on: f.conn)
            #expect(try await f.rollupTotals()[0] == 2)
            _ = try await aggregator.catchUp(timeout: .seconds(120), on: f.conn)
            #expect(try await f.rollupTotals()[0] == 2)
            #expect(try await f.verify().0)
        }
    }

    /// A response whose send is still in the queue waits until the worker has recorded the delivery, then takes
    /// its variant, stage and day from it.
    @Test func responseToAQueuedSendWaitsForItsDelivery() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(1)
            let campaign = try await f.campaign("queued")
            try await f.conn.query(
                """
                INSERT INTO send_jobs (campaign_id, customer_id, channel, idempotency_key, payload)
                VALUES ($1, $2, 'email', 'q-1', '{"variant": "B"}')
                """, [campaign, first])
            try await f.responses(campaign: campaign, key: "q", kind: "open", count: 1, at: "2026-03-02T10:00:00Z")
            let aggregator = Aggregator(chunk: 100, logger: ReportFixture.logger)
            _ = try await aggregator.catchUp(timeout: .seconds(120), on: f.conn)
            #expect(try await f.scalar("SELECT count(*) FROM report_pending_responses") == 1)
            #expect(try await f.rollupTotals()[2] == 0)
            #expect(try await f.verify().0)
            // The worker records it (the finish statement's shape: delete the job, insert the delivery).
            try await f.conn.query(
                """
                WITH done AS (DELETE FROM send_jobs WHERE idempotency_key = 'q-1'
                              RETURNING id, idempotency_key, campaign_id, customer_id, channel, payload)
                INSERT INTO deliveries (job_id, idempotency_key, campaign_id, customer_id, channel, outcome, variant,
                                        stage, finished_at)
                SELECT id, idempotency_key, campaign_id, customer_id, channel, 'sent', payload->>'variant', 'active',
                       '2026-03-01T10:00:00Z' FROM done
                """)
            let pass = try await aggregator.catchUp(timeout: .seconds(120), on: f.conn)
            #expect(pass.resolvedPending == 1)
            let row = try await f.conn.query(
                "SELECT variant, day::text, opens FROM report_rollups WHERE opens > 0"
            ).single()
            #expect(try row.decode(String.self, at: 0) == "B")
            #expect(try row.decode(String.self, at: 1) == "2026-03-01")
            #expect(try row.decode(Int.self, at: 2) == 1)
            #expect(try await f.verify().0)
        }
    }
}
