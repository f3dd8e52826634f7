import CicloReports
import CicloSchema
import CicloTestSupport
import Foundation
import Postgres
import Testing

/// A campaign's control group holds its own holdout decisions, each counted once its would-have-received send is
/// due (0018_holdout_groups.sql): the treated count a send once it is sent, so a holdout deferred by quiet hours
/// must not sit in the control group before it could convert. The global holdout has figures of its own.
@Suite(.serialized) struct HoldoutGroupTests {
    static let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))

    /// Five holdouts due in the past count at once; five deferred to tomorrow do not, until they fall due, and
    /// then exactly once. The recount agrees at each step.
    @Test func holdoutCountsOnceItsSendIsDue() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(20)
            let id = try await f.campaign("winback")
            try await f.sends(campaign: id, key: "wb", firstCustomer: first, count: 10, at: "2026-03-01T10:00:00Z")
            try await f.holdouts(campaign: id, key: "now", firstCustomer: first + 10, count: 5,
                                 at: "2026-03-01T10:00:00Z")
            try await f.holdouts(campaign: id, key: "later", firstCustomer: first + 15, count: 5, at: Self.tomorrow)

            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            #expect(try await f.report().campaign("winback").figures.heldOut == 5)
            #expect(try await f.verify().0)

            // The clock reaches the deferred sends' due time: moved to now, after the last fold's.
            try await f.conn.query("UPDATE send_decisions SET due_at = now() WHERE offer_family = 'later'")
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            let line = try await f.report().campaign("winback")
            #expect(line.figures.heldOut == 10)
            #expect(line.figures.sent == 10)
            #expect(try await f.verify().0)
        }
    }

    /// Global holdouts neither count in a campaign's holdout nor take its conversions: they have global figures,
    /// and the report compares all marketing with them on a line of their own.
    @Test func globalHoldoutIsApartFromTheCampaignsHoldout() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(30)
            let id = try await f.campaign("winback")
            try await f.sends(campaign: id, key: "wb", firstCustomer: first, count: 20, at: "2026-03-01T10:00:00Z")
            try await f.holdouts(campaign: id, key: "wb", firstCustomer: first + 20, count: 4,
                                 at: "2026-03-01T10:00:00Z")
            try await f.holdouts(campaign: id, key: "wb", firstCustomer: first + 24, count: 6,
                                 at: "2026-03-01T10:00:00Z", outcome: "global_holdout")
            // Two treated, one campaign holdout and two global holdouts buy within the window.
            for customer in [first, first + 1, first + 20, first + 24, first + 25] {
                try await f.event(customer: customer, kind: "purchase", at: "2026-03-02T10:00:00Z", amount: 10)
            }
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            let figures = try await f.report().campaign("winback").figures
            #expect(figures.converted == 2 && figures.sent == 20)
            #expect(figures.heldOut == 4 && figures.holdoutConverted == 1 && figures.holdoutRevenue == 10)
            #expect(figures.globalHeldOut == 6 && figures.globalHoldoutConverted == 2)
            #expect(figures.globalHoldoutConversions == 2 && figures.globalHoldoutRevenue == 20)

            let (status, table, _) = try await f.ciclo(["report"])
            #expect(status == 0)
            let programme = try #require(table.split(separator: "\n").first { $0.contains("all marketing vs global") })
            #expect(programme.contains("33.33%"), "global holdout's rate is 2 of 6: \(programme)")
            #expect(try await f.verify().0)
        }
    }

    /// A database whose rollups 0013-0017's fold wrote (every holdout counted when decided, global ones in the
    /// campaign's group) is moved by 0018 to what the new rules count, and the recount agrees.
    @Test func migrationMovesWhatWasFoldedUnderTheOldRules() async throws {
        let db = try await MigrationDatabase.create()
        let conn = try await db.connect()
        let f = ReportFixture(db: db, conn: conn)
        do {
            let all = try MigrationLoader.load(from: MigrationDatabase.schemaDirectory)
            let before = all.filter { $0.version < 18 }
            _ = try await Migrator(connection: conn, logger: MigrationDatabase.logger).migrate(before)

            let first = try await f.customers(12)
            let id = try await f.campaign("winback")
            try await f.holdouts(campaign: id, key: "wb", firstCustomer: first, count: 4, at: "2026-03-01T10:00:00Z")
            try await f.holdouts(campaign: id, key: "later", firstCustomer: first + 4, count: 3, at: Self.tomorrow)
            try await f.holdouts(campaign: id, key: "wb", firstCustomer: first + 7, count: 5,
                                 at: "2026-03-01T10:00:00Z", outcome: "global_holdout")
            try await f.event(customer: first + 7, kind: "purchase", at: "2026-03-02T10:00:00Z", amount: 30)
            // What the old fold left: every holdout in held_out, the global holdout's purchase as a holdout
            // conversion, both cursors past their rows.
            try await conn.query(
                """
                INSERT INTO report_rollups (campaign_id, variant, channel, stage, day, held_out)
                SELECT campaign_id, variant, channel, stage, (due_at AT TIME ZONE 'UTC')::date, count(*)
                FROM send_decisions GROUP BY 1, 2, 3, 4, 5
                """)
            try await conn.query(
                """
                INSERT INTO report_conversions (event_id, send_key, holdout, first, revenue, campaign_id, variant,
                                                channel, stage, day, occurred_at)
                SELECT e.id, 'wb:global_holdout:1', true, true, 30, $1, 'A', 'email', 'active', '2026-03-01',
                       e.occurred_at
                FROM events e
                """, [id])
            try await conn.query(
                """
                UPDATE report_rollups SET holdout_conversions = 1, holdout_converted = 1, holdout_revenue = 30
                WHERE day = '2026-03-01'
                """)
            try await conn.query(
                """
                UPDATE report_cursors c SET xid = x.xid, id = x.id
                FROM (SELECT 'decisions' AS source, max(fold_xid) AS xid, 0 AS id FROM send_decisions
                      UNION ALL SELECT 'events', max(fold_xid), max(id) FROM events) x
                WHERE c.source = x.source
                """)

            _ = try await Migrator(connection: conn, logger: MigrationDatabase.logger).migrate(all)
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            var figures = try await f.report().campaign("winback").figures
            #expect(figures.heldOut == 4 && figures.holdoutConverted == 0 && figures.holdoutRevenue == 0)
            #expect(figures.globalHeldOut == 5 && figures.globalHoldoutConverted == 1)
            #expect(figures.globalHoldoutRevenue == 30)
            #expect(try await f.verify().0)

            try await conn.query("UPDATE send_decisions SET due_at = now() WHERE offer_family = 'later'")
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            figures = try await f.report().campaign("winback").figures
            #expect(figures.heldOut == 7 && figures.globalHeldOut == 5)
            #expect(try await f.verify().0)
        } catch {
            await f.close()
            throw error
        }
        await f.close()
    }
}
