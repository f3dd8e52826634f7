import CicloReports
import CicloTestSupport
import Foundation
import Postgres
import Testing

@Suite(.serialized) struct ConversionTests {
    /// A purchase two days after the send is credited to it with its amount; one ten days after (outside the
    /// seven-day window) is not; a holdout member's purchase is credited to the would-have-received send; an
    /// event kind that does not convert for the stage is ignored; a second purchase counts as a conversion but
    /// the send is converted once.
    @Test func creditsConversionsInsideTheWindowOnly() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(4)
            let winback = try await f.campaign("winback", stage: "active", attributionDays: 7)
            try await f.sends(campaign: winback, key: "wb", firstCustomer: first, count: 2, at: "2026-03-01T10:00:00Z")
            try await f.holdouts(
                campaign: winback, key: "wb", firstCustomer: first + 2, count: 1,
                at: "2026-03-01T10:00:00Z")
            // Customer 1: inside the window, twice (49.90 then 10), and a login, which converts for nothing.
            try await f.event(customer: first, kind: "purchase", at: "2026-03-03T09:00:00Z", amount: 49.9)
            try await f.event(customer: first, kind: "purchase", at: "2026-03-04T09:00:00Z", amount: 10)
            try await f.event(customer: first, kind: "login", at: "2026-03-02T09:00:00Z")
            // Customer 2: ten days later, outside the window.
            try await f.event(customer: first + 1, kind: "deposit", at: "2026-03-11T10:00:00Z", amount: 100)
            // Customer 3 (held out): inside the window of the would-have-received send.
            try await f.event(customer: first + 2, kind: "deposit", at: "2026-03-05T10:00:00Z", amount: 20)
            // Customer 4: a purchase with no send at all.
            try await f.event(customer: first + 3, kind: "purchase", at: "2026-03-05T10:00:00Z", amount: 5)

            let (status, _, err) = try await f.ciclo(["aggregate", "--once"])
            #expect(status == 0, "\(err)")
            let line = try await f.report(["--campaign", "winback"]).campaign("winback")
            #expect(line.figures.sent == 2)
            #expect(line.figures.conversions == 2)
            #expect(line.figures.converted == 1)
            #expect(line.figures.revenue == Decimal(string: "59.9")!)
            #expect(line.figures.heldOut == 1)
            #expect(line.figures.holdoutConversions == 1)
            #expect(line.figures.holdoutConverted == 1)
            #expect(line.figures.holdoutRevenue == 20)
            #expect(line.kpis.conversionRate == 0.5)
            let credited = try await f.conn.query(
                "SELECT send_key FROM report_conversions ORDER BY event_id"
            ).map { try $0.decode(String.self, at: 0) }
            #expect(credited == ["wb-1", "wb-1", "wb:holdout:1"])
            #expect(try await f.verify().0)
        }
    }

    /// The last send wins among campaigns for which the kind converts, and a send recorded after the event was
    /// (a later fold_xid) is never credited, so the answer does not depend on when the fold ran.
    @Test func lastEligibleSendWinsAndLaterRecordsDoNot() async throws {
        try await ReportFixture.with { f in
            let first = try await f.customers(1)
            let early = try await f.campaign("early", stage: "convert", attributionDays: 14)
            let content = try await f.campaign("content", stage: "capture", attributionDays: 14)
            let late = try await f.campaign("late", stage: "convert", attributionDays: 14)
            try await f.sends(campaign: early, key: "e", firstCustomer: first, count: 1, at: "2026-03-01T10:00:00Z")
            // Capture converts on sign-ups, not purchases: the later content send does not take the credit.
            try await f.sends(campaign: content, key: "c", firstCustomer: first, count: 1, at: "2026-03-02T10:00:00Z")
            try await f.event(customer: first, kind: "purchase", at: "2026-03-03T10:00:00Z", amount: 30)
            // Recorded after the event, though its time is earlier: not credited, now or at the recount.
            try await f.sends(campaign: late, key: "l", firstCustomer: first, count: 1, at: "2026-03-02T12:00:00Z")
            #expect(try await f.ciclo(["aggregate", "--once"]).0 == 0)
            let report = try await f.report()
            #expect(try report.campaign("early").figures.conversions == 1)
            #expect(try report.campaign("content").figures.conversions == 0)
            #expect(try report.campaign("late").figures.conversions == 0)
            #expect(try await f.verify().0)
        }
    }
}
