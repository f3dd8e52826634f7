import CicloReports
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite(.serialized) struct UpliftEndToEndTests {
    /// Exactly a `treated` share of the treated customers converts, and a `holdout` share of the holdout: g·7919
    /// mod 1000 runs through every residue once in each block of 1,000 customers, so the rates are exact and the
    /// true effect is known. (UpliftTests checks the interval's coverage over random draws.)
    static func campaign(_ f: ReportFixture, key: String, treated: Double, holdout: Double) async throws {
        let first = try await f.customers(25_000, prefix: key)
        let id = try await f.campaign(key)
        try await f.sends(campaign: id, key: key, firstCustomer: first, count: 20_000, at: "2026-04-01T10:00:00Z")
        try await f.holdouts(
            campaign: id, key: key, firstCustomer: first + 20_000, count: 5_000,
            at: "2026-04-01T10:00:00Z")
        try await f.conn.query(
            """
            INSERT INTO events (customer_id, kind, payload, occurred_at)
            SELECT $1::int8 + g - 1, 'purchase', '{"amount": 25}', '2026-04-03T10:00:00Z'
            FROM generate_series(1, 25000) g
            WHERE (g * 7919) % 1000 < 1000 * CASE WHEN g <= 20000 THEN $2::float8 ELSE $3::float8 END
            """, [first, treated, holdout])
    }

    /// A campaign with a known effect (12% against 8%: +4 points) is reported with an interval that holds the
    /// true effect and leaves out zero; a campaign with none (10% both) is reported as not significant.
    @Test func knownEffectInsideItsIntervalAndNoEffectNotSignificant() async throws {
        try await ReportFixture.with { f in
            try await Self.campaign(f, key: "effect", treated: 0.12, holdout: 0.08)
            try await Self.campaign(f, key: "none", treated: 0.10, holdout: 0.10)
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            let report = try await f.report()

            let effect = try report.campaign("effect")
            #expect(effect.figures.sent == 20_000 && effect.figures.heldOut == 5_000)
            let u = try #require(effect.kpis.uplift)
            #expect(u.lower <= 0.04 && 0.04 <= u.upper, "true effect 0.04 outside [\(u.lower), \(u.upper)]")
            #expect(u.lower <= u.difference && u.difference <= u.upper)
            #expect(u.significant)
            #expect(u.treatedRate == 0.12 && u.holdoutRate == 0.08)
            #expect(effect.figures.converted == 2_400 && effect.figures.holdoutConverted == 400)

            let none = try report.campaign("none")
            let n = try #require(none.kpis.uplift)
            #expect(n.difference == 0 && n.lower < 0 && 0 < n.upper)
            #expect(!n.significant)
            #expect(n.statement.hasPrefix("not significant"))

            let (status, table, _) = try await f.ciclo(["report", "--campaign", "none"])
            #expect(status == 0)
            #expect(table.contains("not significant: the difference of"))
            #expect(try await f.verify().0)
        }
    }
}
