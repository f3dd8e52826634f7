@testable import CicloCampaigns
@testable import CicloScheduler
import CicloTestSupport
import Foundation
import Logging
import Postgres
import Testing

/// The pass statement on its own, with campaigns built in code: each rule, and a repeated pass.
@Suite struct EligibilityStatementTests {
    static func campaign(key: String, kind: Campaign.Kind = .recurring, variants: [String] = ["A", "B", "C"],
                         holdout: Double = 0, cooldownDays: Int = 7, family: String? = nil) -> Campaign {
        Campaign(
            key: key, name: key, kind: kind, channel: "email", segment: .inline(Segment()), priority: 0,
            startsAt: nil, endsAt: nil, holdoutShare: holdout, stage: nil, offerFamily: family, transactional: false,
            variants: variants.map { Variant(name: $0, tone: nil, persona: nil, templates: []) },
            variables: ["offer_code": "X1"], exclude: [],
            recurring: Recurring(schedule: .interval(seconds: 86_400), cooldownDays: cooldownDays),
            trigger: nil, experience: nil, adhoc: nil)
    }

    static func insertCampaign(_ key: String, on conn: PostgresConnection) async throws -> Int64 {
        try await conn.query(
            "INSERT INTO campaigns (key, name, kind, channel, status, salt) VALUES ($1, $1, 'recurring', 'email', 'active', $1) RETURNING id",
            [key]).first!.decode(at: 0)
    }

    func pass(_ campaign: Campaign, id: Int64, at now: Date, policy: ContactPolicy = ContactPolicy(),
              on conn: PostgresConnection) async throws -> PassReport {
        let statement = EligibilityStatement(
            campaignID: id, salt: campaign.key, campaign: campaign, source: .cycle, now: now, policy: policy,
            enqueue: true, segments: [:])
        return try await Tick(logger: Logger(label: "test")).execute(statement, on: conn)
    }

    @Test func cycleRulesAndRepeatedPass() async throws {
        let db = try await MigrationDatabase.migrated()
        defer { Task { await db.drop() } }
        let conn = try await db.connect()
        let ids = try await Seed.customers(200, withoutConsentEvery: 10, on: conn)
        try await conn.query("INSERT INTO suppressions (customer_id, channel, reason) VALUES ($1, 'email', 'unsubscribed')", [ids[0]])
        try await conn.query("UPDATE customers SET stage = CASE WHEN id % 2 = 0 THEN 'active' ELSE 'at_risk' END")
        let campaign = Self.campaign(key: "cycle", holdout: 0.2)
        let id = try await Self.insertCampaign("cycle", on: conn)
        let noon = try #require(ISO8601DateFormatter().date(from: "2026-03-02T12:00:00Z"))

        let first = try await pass(campaign, id: id, at: noon, on: conn)
        // ids[0] is unsubscribed; every tenth (ordinal 10, 20...) has no consent; ids[9] is both the tenth and not
        // ids[0], so 20 lack consent and one more is suppressed.
        #expect(first.counts["suppressed"] == 1)
        #expect(first.counts["no_consent"] == 20)
        let holdout = first.counts["holdout"] ?? 0
        #expect(holdout > 15 && holdout < 65, "about 20% of 179 held out, got \(holdout)")
        #expect(first.counts["queued"] == 179 - holdout)
        #expect(first.enqueued == 179 - holdout)
        // Every decision records the stage the customer was in, for the reporter's holdout figures.
        let unstaged: Int = try await conn.query("""
            SELECT count(*) FROM send_decisions d JOIN customers c ON c.id = d.customer_id
            WHERE d.stage IS DISTINCT FROM c.stage OR d.stage IS NULL
            """).first!.decode(at: 0)
        #expect(unstaged == 0)

        // The same pass again enqueues nothing: the next cycle of everyone sent or held out is in cooldown, and
        // that is recorded once, not on every later pass.
        let again = try await pass(campaign, id: id, at: noon, on: conn)
        #expect(again.enqueued == 0)
        #expect(again.counts == ["cooldown": 179])
        let nextDay = try await pass(campaign, id: id, at: noon.addingTimeInterval(86_400), on: conn)
        #expect(nextDay.counts.isEmpty, "\(nextDay.counts)")

        // After the cooldown the next cycle goes out with a different variant for every customer.
        let later = try await pass(campaign, id: id, at: noon.addingTimeInterval(8 * 86_400), on: conn)
        #expect(later.counts["queued"] == 179 - holdout)
        // IS NOT DISTINCT FROM: two NULL variants are a repeat too. Every customer queued in the first cycle is
        // queued again in the second (holdout is fixed per customer), so that many pairs are compared.
        let pairs = try #require(try await conn.query("""
            SELECT count(*), count(*) FILTER (WHERE a.variant IS NOT DISTINCT FROM b.variant)
            FROM send_decisions a JOIN send_decisions b
              ON b.campaign_id = a.campaign_id AND b.customer_id = a.customer_id AND b.occasion = a.occasion + 1
            WHERE a.outcome = 'queued' AND b.outcome = 'queued'
            """).first)
        #expect(try pairs.decode(Int.self, at: 0) == 179 - holdout)
        #expect(try pairs.decode(Int.self, at: 1) == 0)
        let unnamed: Int = try await conn.query(
            "SELECT count(*) FROM send_decisions WHERE outcome = 'queued' AND variant IS NULL").first!.decode(at: 0)
        #expect(unnamed == 0)
        // Holdout assignment did not change between cycles.
        let flipped: Int = try await conn.query("""
            SELECT count(DISTINCT customer_id) FROM send_decisions WHERE outcome IN ('queued', 'holdout')
            GROUP BY customer_id HAVING count(DISTINCT outcome) > 1
            """).count
        #expect(flipped == 0)
        await conn.close()
    }

    @Test func capAndQuietHours() async throws {
        let db = try await MigrationDatabase.migrated()
        defer { Task { await db.drop() } }
        let conn = try await db.connect()
        try await Seed.customers(50, on: conn)
        var policy = ContactPolicy()
        policy.channels["email"] = .init(cap: .init(maxSends: 2, perDays: 7),
                                         quietHours: .init(start: "21:00:00", end: "08:00:00"))
        let campaigns = ["one", "two", "three"].map { Self.campaign(key: $0, cooldownDays: 0) }
        var ids: [Int64] = []
        for campaign in campaigns { ids.append(try await Self.insertCampaign(campaign.key, on: conn)) }
        // 23:30 in Lisbon (UTC+0 in March before the change): inside quiet hours, deferred to 08:00 local.
        let night = try #require(ISO8601DateFormatter().date(from: "2026-03-02T23:30:00Z"))
        var reports: [PassReport] = []
        for (campaign, id) in zip(campaigns, ids) {
            reports.append(try await pass(campaign, id: id, at: night, policy: policy, on: conn))
        }
        #expect(reports[0].counts["queued"] == 50)
        #expect(reports[1].counts["queued"] == 50)
        #expect(reports[2].counts["capped"] == 50)
        let deferred: [String] = try await conn.query("""
            SELECT DISTINCT to_char(run_at AT TIME ZONE 'Europe/Lisbon', 'YYYY-MM-DD HH24:MI') FROM send_jobs
            """).map { try $0.decode(at: 0) }
        #expect(deferred == ["2026-03-03 08:00"])
        let reasons: [String?] = try await conn.query(
            "SELECT DISTINCT reason FROM send_decisions WHERE outcome = 'queued'").map { try $0.decode(at: 0) }
        #expect(reasons == ["quiet_hours"])
        await conn.close()
    }
}
